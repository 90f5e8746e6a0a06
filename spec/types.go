// Package spec is the manifest language: the types users write in YAML or
// JSON, their decoding, defaulting, validation and canonical hash.
//
// Decode turns one file's bytes into defaulted, validated Objects; Check
// verifies a whole set (duplicate keys, references between objects); Load
// does both for files, folders and stdin, as the CLI's -f does. Problems
// come back as an ErrorList of FieldErrors, each with its Source (file,
// document, line) and field path, so a caller can print them one per line
// or, like the controller, keep the last good objects of a failing file
// (ErrorList.For).
//
// Nothing in spec touches a host: the only I/O is Load reading the
// manifest files it is pointed at.
package spec

// APIVersion is the only apiVersion this release understands.
const APIVersion = "reconciler/v1"

// The kinds of object a manifest can declare.
const (
	KindImage     = "Image"
	KindContainer = "Container"
	KindVolume    = "Volume"
	KindHost      = "Host"
)

// LocalHost names the machine the reconciler runs on; it needs no Host object.
const LocalHost = "local"

// TypeMeta is the apiVersion/kind header every document starts with.
type TypeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// ObjectMeta names an object and carries the user's labels and annotations.
type ObjectMeta struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Container declares one long-running (or run-to-completion) container.
type Container struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta    `json:"metadata"`
	Spec     ContainerSpec `json:"spec"`
}

// ContainerSpec is what the user wants running.
type ContainerSpec struct {
	Host            string            `json:"host,omitempty"`
	Image           string            `json:"image"`
	Command         []string          `json:"command,omitempty"`
	Args            []string          `json:"args,omitempty"`
	Env             []EnvVar          `json:"env,omitempty"`
	WorkingDir      string            `json:"workingDir,omitempty"`
	User            string            `json:"user,omitempty"`
	Hostname        string            `json:"hostname,omitempty"`
	Volumes         []VolumeMount     `json:"volumes,omitempty"`
	Binds           []BindMount       `json:"binds,omitempty"`
	Tmpfs           []TmpfsMount      `json:"tmpfs,omitempty"`
	RestartPolicy   string            `json:"restartPolicy,omitempty"`
	Resources       Resources         `json:"resources,omitempty"`
	StopSignal      string            `json:"stopSignal,omitempty"`
	StopGracePeriod *Duration         `json:"stopGracePeriod,omitempty"`
	Network         string            `json:"network,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`

	// Hardening and names, as docker run's --read-only, --cap-drop,
	// --ulimit, --shm-size, --add-host and --dns*. Every one is left out
	// of the canonical form when unset, so manifests that do not use them
	// keep the hash they had before these fields existed.
	ReadOnlyRootFilesystem bool        `json:"readOnlyRootFilesystem,omitempty"`
	CapDrop                []string    `json:"capDrop,omitempty"`
	Ulimits                []Ulimit    `json:"ulimits,omitempty"`
	ShmSize                string      `json:"shmSize,omitempty"`
	HostAliases            []HostAlias `json:"hostAliases,omitempty"`
	DNSConfig              *DNSConfig  `json:"dnsConfig,omitempty"`

	// The process, as docker run's --init, --oom-score-adj and --log-opt
	// max-size/max-file; left out of the canonical form when unset, as
	// the options above.
	Init        bool     `json:"init,omitempty"`
	OOMScoreAdj int      `json:"oomScoreAdj,omitempty"`
	Logging     *Logging `json:"logging,omitempty"`
}

// Logging bounds the container's json-file log: when the current file
// would outgrow maxSize it is rotated, and at most maxFiles files are
// kept (docker's --log-opt max-size and max-file). Unset, the engine's
// limits apply.
type Logging struct {
	MaxSize  string `json:"maxSize,omitempty"`
	MaxFiles *int   `json:"maxFiles,omitempty"`
}

// Ulimit is one resource limit in docker's words (nofile, nproc, core,
// ...); -1 is unlimited. Both limits are required.
type Ulimit struct {
	Name string `json:"name"`
	Soft *int64 `json:"soft"`
	Hard *int64 `json:"hard"`
}

// HostAlias adds lines to the container's /etc/hosts, as in Kubernetes.
type HostAlias struct {
	IP        string   `json:"ip"`
	Hostnames []string `json:"hostnames"`
}

// DNSConfig replaces the host's resolver settings in the container's
// /etc/resolv.conf, as in Kubernetes.
type DNSConfig struct {
	Nameservers []string    `json:"nameservers,omitempty"`
	Searches    []string    `json:"searches,omitempty"`
	Options     []DNSOption `json:"options,omitempty"`
}

// DNSOption is one resolv.conf option: ndots with value 2 is "ndots:2";
// without a value, just the name.
type DNSOption struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// Restart policies, in Kubernetes' spelling.
const (
	RestartAlways    = "Always"
	RestartOnFailure = "OnFailure"
	RestartNever     = "Never"
)

// Network modes.
const (
	NetworkNone = "none"
	NetworkHost = "host"
)

// EnvVar is one environment variable; a list keeps the user's order.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// VolumeMount mounts a named Volume declared on the same host.
type VolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	SubPath   string `json:"subPath,omitempty"`
}

// BindMount mounts a path of the host.
type BindMount struct {
	HostPath  string `json:"hostPath"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}

// TmpfsMount mounts an in-memory filesystem, bounded by SizeLimit (like 64Mi).
type TmpfsMount struct {
	MountPath string `json:"mountPath"`
	SizeLimit string `json:"sizeLimit,omitempty"`
}

// Resources are the cgroup limits of a container. Memory is a quantity
// (64Mi, 1G), CPUs a decimal ("0.5"), Pids a count; zero means unlimited.
type Resources struct {
	Memory string `json:"memory,omitempty"`
	CPUs   string `json:"cpus,omitempty"`
	Pids   int64  `json:"pids,omitempty"`
}

// Image declares an image tag and exactly one way to obtain it.
type Image struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta `json:"metadata"`
	Spec     ImageSpec  `json:"spec"`
}

// ImageSpec holds the tag and its single source.
type ImageSpec struct {
	Host   string        `json:"host,omitempty"`
	Tag    string        `json:"tag"`
	Build  *BuildSource  `json:"build,omitempty"`
	Import *ImportSource `json:"import,omitempty"`
	Pull   *PullSource   `json:"pull,omitempty"`
}

// BuildSource builds the image from a Dockerfile. Context is resolved
// against the manifest's folder; Dockerfile against Context.
type BuildSource struct {
	Context    string            `json:"context"`
	Dockerfile string            `json:"dockerfile,omitempty"`
	Args       map[string]string `json:"args,omitempty"`
	Target     string            `json:"target,omitempty"`
}

// ImportSource loads a docker-save archive, an OCI layout tarball or a
// plain rootfs tarball.
type ImportSource struct {
	Path string `json:"path"`
}

// PullSource pulls from a registry.
type PullSource struct {
	Ref string `json:"ref"`
}

// Volume declares a named volume whose data outlives containers.
type Volume struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta `json:"metadata"`
	Spec     VolumeSpec `json:"spec"`
}

// VolumeSpec: Retain (the default) keeps data when the manifest stops
// declaring the volume; Delete removes it once no container uses it.
type VolumeSpec struct {
	Host          string            `json:"host,omitempty"`
	Driver        string            `json:"driver,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	ReclaimPolicy string            `json:"reclaimPolicy,omitempty"`
}

// Reclaim policies.
const (
	ReclaimRetain = "Retain"
	ReclaimDelete = "Delete"
)

// Host declares a remote engine reached over the Docker Engine API.
type Host struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta `json:"metadata"`
	Spec     HostSpec   `json:"spec"`
}

// HostSpec: Address is unix://PATH or tcp://HOST:PORT.
type HostSpec struct {
	Address string    `json:"address"`
	TLS     *TLSFiles `json:"tls,omitempty"`
	Timeout *Duration `json:"timeout,omitempty"`
}

// TLSFiles are PEM files, resolved against the manifest's folder.
type TLSFiles struct {
	CAFile   string `json:"caFile"`
	CertFile string `json:"certFile"`
	KeyFile  string `json:"keyFile"`
}
