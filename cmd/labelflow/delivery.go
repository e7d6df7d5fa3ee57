package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/spec"
)

func deliveryCmd(e *env) *cobra.Command {
	return group("delivery", "deliver a project's results again", redeliverCmd(e))
}

// redeliverTarget are the flags that change where a re-delivery goes; each left empty keeps the
// project's own setting.
type redeliverTarget struct {
	profile, bucket, prefix, region, endpoint string
}

func (t redeliverTarget) any() bool {
	return t.profile != "" || t.bucket != "" || t.prefix != "" || t.region != "" || t.endpoint != ""
}

func redeliverCmd(e *env) *cobra.Command {
	var t redeliverTarget
	var formats []string
	cmd := &cobra.Command{
		Use:   "redeliver PROJECT",
		Short: "deliver a completed project's stored results again; nothing re-annotated",
		Args:  takes("PROJECT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withApp(cmd, func(ctx context.Context, a *app.App) error {
				return redeliver(ctx, cmd, a, args[0], t, formats)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&t.profile, "to", "", "delivery `PROFILE` to deliver with (default: the project's)")
	fl.StringVar(&t.bucket, "bucket", "", "bucket (default: the project's)")
	fl.StringVar(&t.prefix, "prefix", "", "prefix (default: the project's)")
	fl.StringVar(&t.region, "region", "", "region (default: the project's)")
	fl.StringVar(&t.endpoint, "endpoint", "", "S3 endpoint `URL` (default: the project's)")
	fl.StringArrayVar(&formats, "format", nil, "a format to deliver (repeatable; default: the project's): jsonl, groundtruth, csv, labelstudio, coco")
	return cmd
}

func redeliver(ctx context.Context, cmd *cobra.Command, a *app.App, project string, t redeliverTarget, formats []string) error {
	var target *spec.Delivery
	if t.any() {
		d, err := retarget(ctx, a, project, t)
		if err != nil {
			return err
		}
		target = &d
	}
	wid, err := a.Redeliver(ctx, project, target, formats)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "re-delivering %s (workflow %s)\n", project, wid)
	res, err := a.WaitRedelivery(ctx, wid)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "delivered %d items in %d objects; manifest %s\n", res.Items, res.Objects, res.ManifestKey)
	return nil
}

// retarget is the project's delivery with the settings the flags give in place of its own.
func retarget(ctx context.Context, a *app.App, project string, t redeliverTarget) (spec.Delivery, error) {
	sp, err := a.ProjectSpec(ctx, project)
	if err != nil {
		return spec.Delivery{}, err
	}
	d := sp.Delivery
	for _, o := range []struct {
		v   string
		dst *string
	}{
		{t.profile, &d.Credentials}, {t.bucket, &d.Bucket}, {t.prefix, &d.Prefix}, {t.region, &d.Region}, {t.endpoint, &d.Endpoint},
	} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	return d, nil
}
