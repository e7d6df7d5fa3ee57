package workforce

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"

	"github.com/labelflow/labelflow/internal/store"
)

// The roster index lets a reader that needs everyone (payroll) read the roster in a request per
// thousand people instead of one per person. Every write of people also writes an index object
// naming each of them with the ETag the store gave their record. Everyone lists the records, each
// with its ETag, and takes a person from the index only where the ETags agree; a person written
// without an index entry, changed since, or whose index object is gone is read from the record.
// The index can be stale or missing, never wrong. The records stay the roster: nothing else reads
// the index, and it holds no token hashes.

// indexPrefix holds the roster index objects, each named by a hash of its content.
const indexPrefix = "workforce/people-index/"

// indexWidth is how many objects Everyone reads or removes side by side.
const indexWidth = 16

// indexEntry is a person as their record was when the store gave it etag. ID is the id the
// record's key names, which Get would have been asked for.
type indexEntry struct {
	ID     string `json:"id"`
	ETag   string `json:"etag"`
	Person Person `json:"person"`
}

// indexObject is one object of the index.
type indexObject struct {
	People []indexEntry `json:"people"`
}

// putRecord writes p's record as Store.PutJSON does, and returns the ETag the store gave it.
func (r Roster) putRecord(ctx context.Context, p Person) (string, error) {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", personKey(p.ID), err)
	}
	data = append(data, '\n')
	info, err := r.Store.Client.PutObject(ctx, r.Store.Bucket, personKey(p.ID), bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/json", SendContentMd5: true})
	if err != nil {
		return "", fmt.Errorf("put s3://%s/%s: %w", r.Store.Bucket, personKey(p.ID), err)
	}
	return info.ETag, nil
}

// writeIndex adds entries to the index, as one object, and returns its key. Nothing is written
// for no entries.
func (r Roster) writeIndex(ctx context.Context, entries []indexEntry) (string, error) {
	if len(entries) == 0 {
		return "", nil
	}
	for i := range entries {
		entries[i].Person.TokenHash = "" // sign-in reads the record, never the index
	}
	slices.SortFunc(entries, func(a, b indexEntry) int { return strings.Compare(a.ID, b.ID) })
	data, err := json.Marshal(indexObject{People: entries})
	if err != nil {
		return "", fmt.Errorf("encode roster index: %w", err)
	}
	return indexKey(data), r.Store.Put(ctx, indexKey(data), data)
}

// indexKey names an index object by its content, so that writing the same entries twice writes
// one object.
func indexKey(data []byte) string {
	sum := sha256.Sum256(data)
	return indexPrefix + hex.EncodeToString(sum[:16]) + ".json"
}

// Everyone returns every person of the roster, by the id their record's key names, without their
// token hashes (the roster for paying people, not for signing them in). It lists the records and
// reads the index side by side, then reads the records the index does not hold as they are. When
// it read any record, or the index is several objects, it folds what it found into one object.
func (r Roster) Everyone(ctx context.Context) (map[string]Person, error) {
	listed, index, indexKeys, err := r.listAndIndex(ctx)
	if err != nil {
		return nil, err
	}
	people := make(map[string]Person, len(listed))
	current := make([]indexEntry, 0, len(listed))
	var stale []string
	for id, etag := range listed {
		e, ok := index[[2]string{id, etag}]
		if !ok || etag == "" {
			stale = append(stale, id)
			continue
		}
		people[id] = e.Person
		current = append(current, e)
	}
	read, err := r.readRecords(ctx, stale)
	if err != nil {
		return nil, err
	}
	for _, e := range read {
		e.Person.TokenHash = ""
		people[e.ID] = e.Person
		current = append(current, e)
	}
	if len(read) > 0 || len(indexKeys) > 1 {
		r.foldIndex(ctx, current, indexKeys)
	}
	return people, nil
}

// listAndIndex lists the records (id → ETag) while it reads the index (by id and ETag), and
// returns the keys of the index objects it read.
func (r Roster) listAndIndex(ctx context.Context) (listed map[string]string, index map[[2]string]indexEntry, indexKeys []string, err error) {
	var listErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		listed, listErr = r.listRecords(ctx)
	}()
	index, indexKeys, err = r.readIndex(ctx)
	wg.Wait()
	return listed, index, indexKeys, errors.Join(listErr, err)
}

// listRecords lists the people's records: the id each key names, and the record's ETag. Keys no
// roster id could have are nobody's, as for Get.
func (r Roster) listRecords(ctx context.Context) (map[string]string, error) {
	listed := map[string]string{}
	for obj := range r.Store.Client.ListObjects(ctx, r.Store.Bucket, minio.ListObjectsOptions{Prefix: peoplePrefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", r.Store.Bucket, peoplePrefix, obj.Err)
		}
		id, ok := strings.CutSuffix(strings.TrimPrefix(obj.Key, peoplePrefix), ".json")
		if ok && storableID.MatchString(id) {
			listed[id] = obj.ETag
		}
	}
	return listed, nil
}

// readIndex reads every index object there is. An object removed since it was listed (folded by
// another reader) is skipped: what it held is in the object that replaced it, or in the records.
func (r Roster) readIndex(ctx context.Context) (map[[2]string]indexEntry, []string, error) {
	var keys []string
	if err := r.Store.List(ctx, indexPrefix, func(key string, _ int64) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	objects := make([]indexObject, len(keys))
	err := store.Parallel(len(keys), indexWidth, func(i int) error {
		err := r.Store.GetJSON(ctx, keys[i], &objects[i])
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	index := map[[2]string]indexEntry{}
	for _, o := range objects {
		for _, e := range o.People {
			index[[2]string{e.ID, e.ETag}] = e
		}
	}
	return index, keys, nil
}

// readRecords reads the records of ids, each with the ETag of the very response it came in. A
// record removed since it was listed is left out: that person has left the roster.
func (r Roster) readRecords(ctx context.Context, ids []string) ([]indexEntry, error) {
	read := make([]*indexEntry, len(ids))
	err := store.Parallel(len(ids), indexWidth, func(i int) error {
		e, err := r.readRecord(ctx, ids[i])
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		read[i] = &e
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]indexEntry, 0, len(ids))
	for _, e := range read {
		if e != nil {
			out = append(out, *e)
		}
	}
	return out, nil
}

// readRecord reads the record of id with its ETag.
func (r Roster) readRecord(ctx context.Context, id string) (indexEntry, error) {
	key := personKey(id)
	obj, err := r.Store.Client.GetObject(ctx, r.Store.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return indexEntry{}, fmt.Errorf("read s3://%s/%s: %w", r.Store.Bucket, key, err)
	}
	defer obj.Close()
	info, err := obj.Stat() // the first request: the ETag and the bytes come in one response
	if resp := minio.ToErrorResponse(err); resp.Code == "NoSuchKey" || resp.StatusCode == 404 {
		return indexEntry{}, fmt.Errorf("s3://%s/%s: %w", r.Store.Bucket, key, store.ErrNotFound)
	} else if err != nil {
		return indexEntry{}, fmt.Errorf("read s3://%s/%s: %w", r.Store.Bucket, key, err)
	}
	data, err := io.ReadAll(obj)
	if err != nil {
		return indexEntry{}, fmt.Errorf("read s3://%s/%s: %w", r.Store.Bucket, key, err)
	}
	e := indexEntry{ID: id, ETag: info.ETag}
	if err := json.Unmarshal(data, &e.Person); err != nil {
		return indexEntry{}, fmt.Errorf("decode s3://%s/%s: %w", r.Store.Bucket, key, err)
	}
	return e, nil
}

// foldIndex replaces the index objects at keys with one holding current. It is a shortcut for
// the next reader, not part of the answer: when it fails, that reader reads more records.
func (r Roster) foldIndex(ctx context.Context, current []indexEntry, keys []string) {
	folded, err := r.writeIndex(ctx, current)
	if err != nil {
		return
	}
	_ = store.Parallel(len(keys), indexWidth, func(i int) error {
		if keys[i] != folded {
			_ = r.Store.Delete(ctx, keys[i])
		}
		return nil
	})
}
