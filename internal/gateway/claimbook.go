package gateway

import (
	"cmp"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labelflow/labelflow/workflows"
)

// The claim book keeps what this gateway learned from the chunks' answers, so that claims cost
// the chunks as few Updates as possible. The chunk workflows stay the authority: the book only
// decides where a claim is sent first, whether it is sent at all, and answers a repeated claim
// with the suite a chunk leased moments ago. Every entry lapses on its own after a short time,
// so several gateways, each with its own book, stay correct: at worst one sends a claim a chunk
// refuses, or shows a holder the suite it holds for a few seconds after another gateway took its
// submission (whose repeat is then answered with its original result).
//
//   - held: the suite each person was last leased, per project, until it is submitted or
//     released here, its lease ends, or heldFresh passes since a chunk confirmed it.
//   - empty: a chunk that refused a claim and had nothing left for anyone of that kind of work,
//     until emptyFor passes (or a submit or release here may have opened work in it).
//   - passed: a chunk that had work, but none for this person (they answered or abandoned it),
//     until passFor passes.
type claimBook struct {
	mu     sync.Mutex
	held   *lru[string, heldSuite]
	empty  *lru[string, time.Time]
	passed *lru[string, time.Time]
	// asking counts the claims this gateway has in flight at each chunk (at most claimsInFlight).
	asking map[string]int
}

// claimsInFlight bounds the claims one gateway sends a chunk at once. Temporal refuses more than
// ten Updates in flight to one workflow, and the client retries those refusals until its
// deadline: when a crowd turns to a chunk that just opened, the claims past the bound go to
// other chunks, or are answered "claim again in a second", instead of waiting for nothing.
const claimsInFlight = 4

// heldSuite is a suite a chunk leased to a person, and when it said so.
type heldSuite struct {
	suite     workflows.Suite
	confirmed time.Time
}

// heldFresh bounds how long a remembered suite answers repeated claims without asking its
// chunk: a suite submitted through another gateway is shown again for at most this long.
const heldFresh = 15 * time.Second

// Caps of the book: a held suite is a few hundred bytes, a mark a few dozen.
const (
	heldCap = 20000
	markCap = 50000
)

// maxClaimTries bounds the chunks one claim asks: a claim that found nothing in them is answered
// "no work yet, claim again after" rather than trying every open chunk in turn.
const maxClaimTries = 3

func newClaimBook() *claimBook {
	return &claimBook{held: newLRU[string, heldSuite](heldCap), empty: newLRU[string, time.Time](markCap),
		passed: newLRU[string, time.Time](markCap), asking: map[string]int{}}
}

// ask takes one of the chunk's claim slots; false when all are taken. Give it back with answered.
func (b *claimBook) ask(project string, chunk int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := chunkKey(project, chunk, "")
	if b.asking[k] >= claimsInFlight {
		return false
	}
	b.asking[k]++
	return true
}

// answered gives back a claim slot taken with ask.
func (b *claimBook) answered(project string, chunk int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := chunkKey(project, chunk, "")
	if b.asking[k]--; b.asking[k] <= 0 {
		delete(b.asking, k)
	}
}

func personKey(project, person string) string { return project + "\x00" + person }

func chunkKey(project string, chunk int, what string) string {
	return project + "\x00" + strconv.Itoa(chunk) + "\x00" + what
}

// workOf is the kind of work a person's claim looks for: reviewers arbitrate, annotators annotate.
func workOf(role string) string {
	if role == workflows.RoleReviewer {
		return workflows.KindArbitrate
	}
	return workflows.KindAnnotate
}

// heldBy returns the suite person was leased in project, while it may still be theirs.
func (b *claimBook) heldBy(project, person string, now time.Time) (workflows.Suite, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, ok := b.held.get(personKey(project, person))
	if !ok {
		return workflows.Suite{}, false
	}
	// A second of margin: a suite about to expire is better asked for again.
	if now.Sub(h.confirmed) >= heldFresh || !now.Add(time.Second).Before(h.suite.ExpiresAt) {
		b.held.remove(personKey(project, person))
		return workflows.Suite{}, false
	}
	return h.suite, true
}

// hold remembers the suite a chunk leased (or confirmed) to its holder.
func (b *claimBook) hold(project string, s workflows.Suite, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held.put(personKey(project, s.Worker), heldSuite{suite: s, confirmed: now})
}

// done forgets person's suite once it is submitted or released here, and the marks that said its
// chunk had nothing left: a submission may have opened disputes, a release gives its items back.
// (Under dynamic overlap a disagreement asks for one more annotator: the mark lapses soon.)
func (b *claimBook) done(project, person, suiteID string, chunk int, released bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := personKey(project, person)
	if h, ok := b.held.get(k); ok && h.suite.ID == suiteID {
		b.held.remove(k)
	}
	b.empty.remove(chunkKey(project, chunk, workflows.KindArbitrate))
	if released {
		b.empty.remove(chunkKey(project, chunk, workflows.KindAnnotate))
	}
}

// refused notes a chunk's NoWork answer: with nothing left of this kind of work for anyone the
// chunk is skipped by every claim for emptyFor; otherwise only by this person's, for passFor.
func (b *claimBook) refused(project string, chunk int, person, work string, open workflows.ChunkOpenings, known bool, now time.Time, lease time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	left := open.Annotate
	if work == workflows.KindArbitrate {
		left = open.Arbitrate
	}
	if known && left == 0 {
		b.empty.put(chunkKey(project, chunk, work), now.Add(emptyFor(lease)))
		return
	}
	b.passed.put(chunkKey(project, chunk, person), now.Add(passFor(lease)))
}

// closed notes a chunk that no longer takes claims (it completed): skipped until the project's
// list of open chunks no longer names it.
func (b *claimBook) closed(project string, chunk int, now time.Time, lease time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.empty.put(chunkKey(project, chunk, workflows.KindAnnotate), now.Add(emptyFor(lease)))
	b.empty.put(chunkKey(project, chunk, workflows.KindArbitrate), now.Add(emptyFor(lease)))
}

// emptyFor is how long a chunk with nothing left is skipped: new work comes only from leases
// that run out (a lease at the earliest) or releases and submissions, so a fraction of a lease
// delays little, while the idle crowd's claims reach each chunk at most once per this time.
func emptyFor(lease time.Duration) time.Duration {
	return min(max(lease/8, 500*time.Millisecond), 5*time.Second)
}

// passFor is how long a chunk that has work, but none for a person, is skipped by their claims.
func passFor(lease time.Duration) time.Duration {
	return min(max(lease/4, time.Second), 15*time.Second)
}

// route lists the chunks a claim by person asks, in order, leaving out the chunks the book knows
// have nothing for them; wait is how soon a skipped chunk may have work again. Each person ranks
// the chunks by a hash of their id and the chunk's (rendezvous hashing): people spread evenly
// over the open chunks, and a chunk opening or closing moves only the people whose first choice
// it is. So each stays at one chunk while it has work for them, where a submission leases their
// next suite with it, instead of sending claims to another whenever the window changes.
func (b *claimBook) route(project string, running []int, person, work string, now time.Time) (chunks []int, wait time.Duration) {
	ranked := slices.Clone(running)
	rank := make(map[int]uint32, len(ranked))
	for _, c := range ranked {
		rank[c] = fnvHash(person + "\x00" + strconv.Itoa(c))
	}
	slices.SortFunc(ranked, func(x, y int) int { return cmp.Compare(rank[y], rank[x]) })
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, chunk := range ranked {
		skip := time.Duration(0)
		if until, ok := b.empty.get(chunkKey(project, chunk, work)); ok && now.Before(until) {
			skip = until.Sub(now)
		} else if until, ok := b.passed.get(chunkKey(project, chunk, person)); ok && now.Before(until) {
			skip = until.Sub(now)
		}
		if skip > 0 {
			if wait == 0 || skip < wait {
				wait = skip
			}
			continue
		}
		chunks = append(chunks, chunk)
	}
	return chunks, wait
}

// fnvHash is a key's 32-bit FNV-1a hash.
func fnvHash(key string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return h.Sum32()
}
