package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/codec"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/temporalconn"
	"github.com/labelflow/labelflow/internal/workforce"
)

func codecServerCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "codec-server",
		Short: "decrypt payloads for the Temporal UI and CLI, for ops people (LABELFLOW_CODEC_LISTEN)",
		Long: `Serve Temporal's remote codec protocol (POST /encode and /decode, or /{namespace}/encode and
/{namespace}/decode) with the payload keys, so that the Temporal UI and CLI show encrypted payloads
in clear to authorised operators:

  temporal workflow show -w ID --codec-endpoint https://codec.example.com/{namespace} \
      --codec-auth "Bearer $LABELFLOW_TOKEN"

Every request carries Authorization: Bearer with the own token of an active ops person of the
roster (needs LABELFLOW_TOKEN_PEPPER and the platform store), or LABELFLOW_CODEC_SECRET when a
proxy that authenticates people itself sits in front. Browsers may call it from the origins in
LABELFLOW_CODEC_ORIGINS (default: the Temporal UI's). Serve it behind HTTPS.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withConfig(cmd, serveCodec)
		},
	}
}

func serveCodec(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	h, err := codecHandler(cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.CodecListen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info().Str("listen", cfg.CodecListen).Strs("origins", cfg.CodecOriginList()).Str("namespace", cfg.TemporalNamespace).Msg("codec server serving")
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// codecHandler is the codec server of cfg: its keys, its origins and who may call it.
func codecHandler(cfg config.Config, log zerolog.Logger) (http.Handler, error) {
	c, err := temporalconn.Codec(cfg)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("configuration: the codec server needs the payload keys: set LABELFLOW_PAYLOAD_KEYS or LABELFLOW_PAYLOAD_KEYS_FILE")
	}
	auth, err := codecAuthorizer(cfg)
	if err != nil {
		return nil, err
	}
	return codec.Handler(codec.ServerOptions{Codec: c, Namespace: cfg.TemporalNamespace, Origins: cfg.CodecOriginList(), Authorize: auth, Log: log}), nil
}

// codecAuthorizer accepts ops people by their own token (where the roster can be read) and the
// configured secret (where one is set).
func codecAuthorizer(cfg config.Config) (codec.Authorizer, error) {
	var auths []codec.Authorizer
	var missing []string
	if cfg.TokenPepper != "" {
		st, err := store.New(store.Options{Endpoint: cfg.StoreEndpoint, AccessKey: cfg.StoreAccessKey, SecretKey: cfg.StoreSecretKey, Region: cfg.StoreRegion, Bucket: cfg.StoreBucket})
		if err != nil {
			return nil, err
		}
		roster := workforce.Roster{Store: st, Pepper: []byte(cfg.TokenPepper)}
		auths = append(auths, codec.Remembered(codec.RosterOps(roster.ByToken), cfg.GatewayTokenCacheTTL))
	} else {
		missing = append(missing, "LABELFLOW_TOKEN_PEPPER (ops people's tokens)")
	}
	if cfg.CodecSecret != "" {
		auths = append(auths, codec.SharedSecret(cfg.CodecSecret))
	} else {
		missing = append(missing, "LABELFLOW_CODEC_SECRET")
	}
	if len(auths) == 0 {
		return nil, fmt.Errorf("configuration: nobody could use the codec server: set %s", strings.Join(missing, " or "))
	}
	return codec.Either(auths...), nil
}
