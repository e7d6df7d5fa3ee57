package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labelflow/labelflow/internal/grant"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// An item's image is served by the gateway, never by a link into a bucket: the URL is signed for
// one person, one item and the time of their lease (at most the grant's longest life), and the
// request must also come from that person. The image is read from the client's intake through
// the same boundary check the activities use.

// mediaAction names the grant a media URL carries.
const mediaAction = "media"

// maxMediaBytes bounds one item's image.
const maxMediaBytes = 64 << 20

// mediaURL is the signed URL of item's image for the holder of a suite.
func (g *Gateway) mediaURL(project string, chunk, item int, worker string, until time.Time) string {
	seal := g.app.Grants.SignUntil(mediaTarget(project, chunk), mediaBody(worker, item), time.Now(), until)
	q := url.Values{"kid": {seal.KeyID}, "exp": {seal.Expires.Format(time.RFC3339Nano)}, "mac": {seal.MAC}}
	return fmt.Sprintf("/v1/media/%s/%d/%d?%s", project, chunk, item, q.Encode())
}

func mediaTarget(project string, chunk int) grant.Target {
	return grant.Target{Workflow: workflows.ChunkWorkflowID(project, chunk), Action: mediaAction}
}

func mediaBody(worker string, item int) []byte { return []byte(worker + "\n" + strconv.Itoa(item)) }

// media serves an item's image to the person its URL was signed for.
func (g *Gateway) media(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	project := r.PathValue("project")
	chunk, err1 := strconv.Atoi(r.PathValue("chunk"))
	item, err2 := strconv.Atoi(r.PathValue("item"))
	if err1 != nil || err2 != nil || chunk < 0 || item < 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "chunk and item must be whole numbers")
		return
	}
	if err := g.checkMediaSeal(r.URL.Query(), project, chunk, item, p.ID); err != nil {
		writeError(w, http.StatusForbidden, "forbidden", "this image link is not yours or has expired: "+err.Error())
		return
	}
	ref, err := g.itemRef(r, project, chunk, item)
	if err != nil {
		g.fail(w, err)
		return
	}
	g.serveImage(w, r, ref)
}

func (g *Gateway) checkMediaSeal(q url.Values, project string, chunk, item int, person string) error {
	exp, err := time.Parse(time.RFC3339Nano, q.Get("exp"))
	if err != nil {
		return fmt.Errorf("exp: %w", err)
	}
	seal := &grant.Seal{KeyID: q.Get("kid"), Expires: exp, MAC: q.Get("mac")}
	return g.app.Grants.Verify(mediaTarget(project, chunk), mediaBody(person, item), seal, time.Now())
}

// itemRef is the source-ref of an item, checked against its client's intake.
func (g *Gateway) itemRef(r *http.Request, project string, chunk, item int) (string, error) {
	sp, err := g.spec(r.Context(), project)
	if err != nil {
		return "", err
	}
	items, err := g.chunkItems(r.Context(), project, chunk)
	if err != nil {
		return "", err
	}
	if item >= len(items) || items[item].SourceRef == "" {
		return "", fmt.Errorf("item %d of chunk %d has no image: %w", item, chunk, store.ErrNotFound)
	}
	ref := items[item].SourceRef
	if err := g.app.Boundary().MayRead(sp.Client, ref); err != nil {
		return "", fmt.Errorf("item %d of chunk %d: %v: %w", item, chunk, err, store.ErrNotFound)
	}
	return ref, nil
}

// imageTypes are the images a browser is given: never a type that can carry script (SVG).
var imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/bmp": true}

func (g *Gateway) serveImage(w http.ResponseWriter, r *http.Request, ref string) {
	bucket, key, err := store.ParseURI(ref)
	if err != nil {
		g.fail(w, err)
		return
	}
	body, err := g.app.Store.OpenIn(r.Context(), bucket, key)
	if err != nil {
		g.fail(w, err)
		return
	}
	defer body.Close()
	br := bufio.NewReaderSize(io.LimitReader(body, maxMediaBytes), 512)
	head, _ := br.Peek(512)
	ctype := http.DetectContentType(head)
	if !imageTypes[strings.Split(ctype, ";")[0]] {
		writeError(w, http.StatusUnsupportedMediaType, "not_an_image", "the item's file is not an image a browser may be given ("+ctype+")")
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, max-age=600")
	w.Header().Set("Content-Disposition", "inline")
	_, _ = io.Copy(w, br)
}

// taskMedia fills a task's image link for the suite's holder.
func (g *Gateway) taskMedia(sp spec.Project, s workflows.Suite, t *TaskView, it manifest.Item) {
	if it.SourceRef == "" || !imageAnnotation(sp.Annotation.Type) {
		return
	}
	t.MediaURL = g.mediaURL(sp.ID, s.Chunk, t.Item, s.Worker, s.ExpiresAt)
}

// imageAnnotation reports the types whose items are images; text types show Source.
func imageAnnotation(typ string) bool {
	return typ == "bounding-box" || typ == "transcription" || typ == "single-label" || typ == "multi-label"
}
