package volumes

import "fmt"

// PruneOptions select what Prune may remove. Volumes a container uses are
// never removed.
type PruneOptions struct {
	// All removes unused named volumes too. Without it only anonymous
	// volumes (LabelAnonymous) are removed, as docker volume prune does
	// since Docker 23.
	All bool
	// Filter narrows the candidates further (its Labels and Name; Dangling
	// is implied).
	Filter Filter
	// IncludeRetained also removes volumes the reconciler manages with a
	// Retain reclaim policy (Volume.Retained), which Prune otherwise keeps
	// whatever All says: their data must not be lost by accident.
	IncludeRetained bool
}

// PruneReport says what Prune did.
type PruneReport struct {
	Deleted        []string // names of removed volumes, sorted
	SpaceReclaimed int64    // bytes their data used
	// Retained are unused volumes kept only because of their Retain policy.
	Retained []string
}

// Prune removes the unused volumes opts selects and reports what it
// removed and what it kept for its Retain policy.
func (m *Manager) Prune(opts PruneOptions) (PruneReport, error) {
	var rep PruneReport
	unlock, err := m.lock()
	if err != nil {
		return rep, err
	}
	defer unlock()
	// Listing under the lock sees users recorded up to now; none can be
	// added until the lock is released.
	dangling := true
	f := opts.Filter
	f.Dangling = &dangling
	vols, err := m.List(f)
	if err != nil {
		return rep, err
	}
	for _, v := range vols {
		if !opts.All && !v.Anonymous() {
			continue
		}
		if v.Retained() && !opts.IncludeRetained {
			rep.Retained = append(rep.Retained, v.Name)
			continue
		}
		size, err := dirUsage(v.Mountpoint, 0)
		if err != nil {
			return rep, fmt.Errorf("prune %s: measure: %w", v.Name, err)
		}
		if err := m.removeDir(v.Name); err != nil {
			return rep, err
		}
		rep.Deleted = append(rep.Deleted, v.Name)
		rep.SpaceReclaimed += size
	}
	return rep, nil
}
