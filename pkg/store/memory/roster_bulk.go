package memory

import (
	"context"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.KnownRelations = (*Store)(nil)

// UpsertKnownRelations implements store.KnownRelations.
func (s *Store) UpsertKnownRelations(ctx context.Context, tenantID string, rs []store.Relation) ([]int, error) {
	if err := store.ValidateRelations(rs); err != nil {
		return nil, err
	}
	if err := store.CheckIDs("tenant_id", tenantID); err != nil {
		return nil, err
	}
	defer s.write(ctx)()
	var missing []int
	known := make([]store.Relation, 0, len(rs))
	for i, r := range rs {
		if s.relationInvalid(tenantID, r) != nil {
			missing = append(missing, i)
			continue
		}
		known = append(known, r)
	}
	if len(known) == 0 {
		return missing, nil
	}
	if s.relations[tenantID] == nil {
		s.relations[tenantID] = map[store.Relation]bool{}
	}
	// One pass over the tenant's relations finds those the batch replaces
	// (one relation per pair: a new kind replaces the old one).
	type slot struct {
		old    store.Relation
		exists bool
	}
	byPair := make(map[[2]string]slot, len(known))
	for _, r := range known {
		byPair[[2]string{r.Parent, r.Student}] = slot{}
	}
	for r := range s.relations[tenantID] {
		if _, ok := byPair[[2]string{r.Parent, r.Student}]; ok {
			byPair[[2]string{r.Parent, r.Student}] = slot{r, true}
		}
	}
	for _, r := range known {
		pair := [2]string{r.Parent, r.Student}
		if sl := byPair[pair]; sl.exists {
			old := sl.old
			delete(s.relations[tenantID], old)
			s.onUndo(ctx, func() { s.relations[tenantID][old] = true })
		}
		k := relationKey(r)
		s.relations[tenantID][k] = true
		byPair[pair] = slot{k, true}
		s.onUndo(ctx, func() { delete(s.relations[tenantID], k) })
	}
	return missing, nil
}
