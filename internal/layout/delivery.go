package layout

import (
	"fmt"
	"strings"
)

// The client's bucket, layout version 1 (docs/ARCHITECTURE.md, "Client bucket"): everything of a
// project sits in <prefix><project>/.

// DeliveryLayoutVersion is the version of the client-side layout below; it changes only with a
// documented migration.
const DeliveryLayoutVersion = 1

// DeliveryPrefix — `<prefix><project>/`: the folder of a project in the client's bucket.
func DeliveryPrefix(prefix, project string) string {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix + project + "/"
}

// DeliveredChunkKey — `<prefix><project>/labels/chunk-NNNNNN.jsonl`: a chunk's labels, delivered
// as the chunk finishes.
func DeliveredChunkKey(prefix, project string, chunk int) string {
	return DeliveryPrefix(prefix, project) + "labels/" + chunkFile(chunk, "jsonl")
}

// DeliveredRejectsKey — `<prefix><project>/rejects.jsonl`: the quarantined lines.
func DeliveredRejectsKey(prefix, project string) string {
	return DeliveryPrefix(prefix, project) + "rejects.jsonl"
}

// DeliveredQualityReportKey — `<prefix><project>/quality/report.json`: the project's quality report.
func DeliveredQualityReportKey(prefix, project string) string {
	return DeliveryPrefix(prefix, project) + "quality/report.json"
}

// ManifestKey — `<prefix><project>/manifest.json`, written last: every object with SHA-256, size
// and items.
func ManifestKey(prefix, project string) string {
	return DeliveryPrefix(prefix, project) + "manifest.json"
}

// CompletionKey — `<prefix><project>/_COMPLETE`, written after the manifest: a client that sees it
// knows the manifest, and every object it names, is in place.
func CompletionKey(prefix, project string) string {
	return DeliveryPrefix(prefix, project) + "_COMPLETE"
}

// ProbeKey is the object written and deleted to check that a delivery location accepts writes.
func ProbeKey(prefix, project string) string {
	return DeliveryPrefix(prefix, project) + ".labelflow-write-check"
}

// formatFiles names the object of each whole-project format (spec.Formats, JSON Lines aside: its
// objects are the labels). Ground Truth keeps its own layout so that tools that read Ground Truth
// output find it where they expect it.
var formatFiles = map[string]string{
	"groundtruth": "manifests/output/output.manifest",
	"csv":         "formats/labels.csv",
	"labelstudio": "formats/labelstudio.json",
	"coco":        "formats/coco.json",
}

// FormatKey is where a whole-project format lands in the client's bucket; "" for a format that
// has no object of its own.
func FormatKey(prefix, project, format string) string {
	file, ok := formatFiles[format]
	if !ok {
		return ""
	}
	return DeliveryPrefix(prefix, project) + file
}

// GroundTruthResponsesKey — `<prefix><project>/annotations/worker-response/iteration-1/
// chunk-NNNNNN.json`: a chunk's individual answers, in Ground Truth's layout.
func GroundTruthResponsesKey(prefix, project string, chunk int) string {
	return fmt.Sprintf("%sannotations/worker-response/iteration-1/%s", DeliveryPrefix(prefix, project), chunkFile(chunk, "json"))
}

// GroundTruthConsolidatedKey — `<prefix><project>/annotations/consolidated-annotation/
// consolidation-response/iteration-1/chunk-NNNNNN.json`: a chunk's consolidated labels, in Ground
// Truth's layout.
func GroundTruthConsolidatedKey(prefix, project string, chunk int) string {
	return fmt.Sprintf("%sannotations/consolidated-annotation/consolidation-response/iteration-1/%s", DeliveryPrefix(prefix, project), chunkFile(chunk, "json"))
}
