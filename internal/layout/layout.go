// Package layout names every object LabelFlow keeps: the keys of the platform store and of a
// client's delivery folder. It mirrors the storage tables of docs/ARCHITECTURE.md, row by row; a
// key is changed here and there together.
//
// Every key derives from project, chunk, month, person or content, never from time or randomness
// (audit records excepted, which are written once and never rewritten), which is what makes a
// retried activity write the same object again rather than a second one.
//
// The package depends on nothing else of LabelFlow, so that any package may name a key.
package layout

import "fmt"

// chunkFile names a chunk's object in a folder: chunk-NNNNNN.<ext>.
func chunkFile(chunk int, ext string) string { return fmt.Sprintf("chunk-%06d.%s", chunk, ext) }

// projectDir is the folder of everything the platform keeps of one project.
func projectDir(project string) string { return "projects/" + project + "/" }

// SpecKey — `projects/<id>/spec.json`, written by PrepareProject: the validated spec.
func SpecKey(project string) string { return projectDir(project) + "spec.json" }

// ChunkKey — `projects/<id>/chunks/chunk-NNNNNN.jsonl`, written by SplitManifest: one line per
// item, `{id, line, source, source-ref, data}`.
func ChunkKey(project string, chunk int) string {
	return projectDir(project) + "chunks/" + chunkFile(chunk, "jsonl")
}

// RejectsKey — `projects/<id>/rejects.jsonl`, written by SplitManifest: the quarantined lines.
func RejectsKey(project string) string { return projectDir(project) + "rejects.jsonl" }

// SettledPartKey — `projects/<id>/settled/chunk-NNNNNN/part-NNNN.json`, written by StoreSettled:
// results of settled items, kept until RecordChunk reads them back.
func SettledPartKey(project string, chunk, part int) string {
	return fmt.Sprintf("%ssettled/chunk-%06d/part-%04d.json", projectDir(project), chunk, part)
}

// ResultsKey — `projects/<id>/results/chunk-NNNNNN.jsonl`, written by RecordChunk: the delivered
// lines, kept for re-delivery.
func ResultsKey(project string, chunk int) string {
	return ResultsPrefix(project) + chunkFile(chunk, "jsonl")
}

// ResultsPrefix lists a project's recorded results (ResultsKey).
func ResultsPrefix(project string) string { return projectDir(project) + "results/" }

// ReceiptKey — `projects/<id>/deliveries/chunk-NNNNNN.json`, written by DeliverChunk: what was
// delivered of a chunk.
func ReceiptKey(project string, chunk int) string {
	return ReceiptPrefix(project) + chunkFile(chunk, "json")
}

// ReceiptPrefix lists a project's delivery receipts (ReceiptKey).
func ReceiptPrefix(project string) string { return projectDir(project) + "deliveries/" }

// RedeliveryReceiptKey — `projects/<id>/redeliveries/<target hash>/chunk-NNNNNN.json`, written by
// DeliverChunk on a re-delivery: its own receipts, so that the original delivery's never change.
func RedeliveryReceiptKey(project, redelivery string, chunk int) string {
	return projectDir(project) + "redeliveries/" + redelivery + "/" + chunkFile(chunk, "json")
}

// StatsKey — `projects/<id>/stats/chunk-NNNNNN.json`, written by RecordChunk: the chunk's quality
// figures, per person too.
func StatsKey(project string, chunk int) string {
	return projectDir(project) + "stats/" + chunkFile(chunk, "json")
}

// SuitesKey — `projects/<id>/suites/chunk-NNNNNN.json`, written by RecordChunk: the chunk's
// accepted suites with who submitted each and how many answers it had accepted, so that a
// submission repeated after the chunk closed gets its original answer.
func SuitesKey(project string, chunk int) string {
	return projectDir(project) + "suites/" + chunkFile(chunk, "json")
}

// QualityReportKey — `projects/<id>/quality-report.json`, written by WriteDeliveryManifest: the
// project's quality report (also delivered).
func QualityReportKey(project string) string { return projectDir(project) + "quality-report.json" }

// ScoreKey — `quality/scores/<type>/<person>/<project>.json`, written by WriteDeliveryManifest: a
// person's answers and accepted answers on a finished project. One object per (type, person,
// project): a project writes only its own, so projects finishing together never overwrite each
// other.
func ScoreKey(annotationType, person, project string) string {
	return ScorePrefix(annotationType, person) + project + ".json"
}

// ScorePrefix lists a person's records for an annotation type (ScoreKey).
func ScorePrefix(annotationType, person string) string {
	return "quality/scores/" + annotationType + "/" + person + "/"
}

// PersonKey — `workforce/people/<id>.json`: a person of the roster.
func PersonKey(id string) string { return "workforce/people/" + id + ".json" }

// TokenKey — `workforce/tokens/<hmac>.json`: a token, only as its HMAC, naming its one holder.
func TokenKey(hash string) string { return "workforce/tokens/" + hash + ".json" }
