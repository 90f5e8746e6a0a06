// Package volumes manages named volumes: directories whose data outlives
// every container that mounts them.
//
// A Manager owns one state folder (STATE/volumes) laid out as
//
//	ROOT/.lock            flock serialising writers (daemon and CLI alike)
//	ROOT/NAME/meta.json   the volume's metadata, replaced atomically
//	ROOT/NAME/_data       the data containers see (the Mountpoint)
//	ROOT/NAME/_copyup     staging of an unfinished copy-up (transient)
//	ROOT/.tmp-*           creations and removals in flight (transient)
//
// Every change is crash-safe: a volume appears by renaming a complete
// temporary directory into place and disappears by renaming it away before
// its data is deleted, and metadata is written to a temporary file, synced
// and renamed. Open finishes or discards whatever a crash interrupted, so a
// reader never sees half a volume.
//
// Data is never lost by accident: a volume that any container uses (running
// or stopped, as recorded by Use and Release and persisted across restarts)
// cannot be removed, and Prune keeps volumes the reconciler manages with a
// Retain reclaim policy.
//
// A container's volume mount is wired by the engine in this order:
//
//	Create(opts)                       idempotent: safe on every apply
//	Use(name, containerID)             when the container is created
//	CopyUpFromImage(name, lowers, dst) before its first start; whole-volume
//	                                   mounts only (Docker does not copy
//	                                   into a subPath); read-only or not
//	OpenSubPath / Resolve(name, sub)   the host path to bind-mount
//	Release(name, containerID)         when the container is removed
//
// Binds are checked with CheckBind; -v/Binds strings are parsed by
// ParseVolumeFlag. tmpfs sizes are parsed by spec.ParseQuantity, the
// project's one parser of byte quantities; tmpfs needs nothing stored here.
//
// Reads (Get, List, Users) take no lock: they read metadata that is only
// ever replaced whole. Writes take the in-process mutex and the ROOT/.lock
// flock, so a daemon and a CLI working on the same folder never interleave.
package volumes
