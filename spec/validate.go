package spec

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/reconciler/reconciler/internal/limitnames"
	"github.com/reconciler/reconciler/internal/procopts"
)

// Validation of one defaulted object on its own; checks that need the
// whole set of objects (duplicates, references) live in check.go.

var (
	dnsLabel  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	labelKey  = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$`)
	stageName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)
)

// ReservedLabelPrefix marks the labels the reconciler sets itself.
const ReservedLabelPrefix = "io.reconciler."

func validateMeta(m *ObjectMeta, errs *fieldErrs) {
	checkName("metadata.name", m.Name, errs)
	checkLabels("metadata.labels", m.Labels, errs)
	for _, k := range sortedKeys(m.Annotations) {
		if k == "" || strings.ContainsAny(k, " \t\n\x00") {
			errs.add(child("metadata.annotations", k), "a key must be non-empty and have no spaces")
		}
	}
}

func checkName(p, name string, errs *fieldErrs) {
	switch {
	case name == "":
		errs.add(p, "is required")
	case len(name) > 63 || !dnsLabel.MatchString(name):
		errs.add(p, "%q is not a valid name: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit", name)
	}
}

func checkHostRef(p, host string, errs *fieldErrs) {
	if host != LocalHost && (len(host) > 63 || !dnsLabel.MatchString(host)) {
		errs.add(p, "%q is not a valid host: use %q or the name of a Host object", host, LocalHost)
	}
}

func checkLabels(p string, labels map[string]string, errs *fieldErrs) {
	for _, k := range sortedKeys(labels) {
		switch {
		case len(k) > 253 || !labelKey.MatchString(k):
			errs.add(child(p, k), "%q is not a valid label key: use letters, digits, '-', '_', '.' and '/', starting and ending with a letter or digit", k)
		case strings.HasPrefix(k, ReservedLabelPrefix):
			errs.add(child(p, k), "labels starting with %q are set by the reconciler itself", ReservedLabelPrefix)
		case strings.ContainsRune(labels[k], 0):
			errs.add(child(p, k), "the value must not contain NUL characters")
		}
	}
}

func checkAbs(p, value string, errs *fieldErrs) {
	switch {
	case value == "":
		errs.add(p, "is required")
	case !path.IsAbs(value):
		errs.add(p, "%q must be an absolute path", value)
	case strings.ContainsRune(value, 0):
		errs.add(p, "must not contain NUL characters")
	}
}

func validateContainer(c *Container, errs *fieldErrs) {
	validateMeta(&c.Metadata, errs)
	s := &c.Spec
	checkHostRef("spec.host", s.Host, errs)
	if s.Image == "" {
		errs.add("spec.image", "is required: the tag of an Image object, or a registry reference like docker.io/library/busybox:1.36")
	} else if err := checkRef(s.Image); err != nil {
		errs.add("spec.image", "%v", err)
	}
	seenEnv := map[string]int{}
	for i, e := range s.Env {
		p := index("spec.env", i)
		switch {
		case e.Name == "":
			errs.add(p+".name", "is required")
		case strings.ContainsAny(e.Name, "=\x00"):
			errs.add(p+".name", "%q must not contain '=' or NUL", e.Name)
		default:
			if j, dup := seenEnv[e.Name]; dup {
				errs.add(p+".name", "%s is already set by spec.env[%d]", e.Name, j)
			}
			seenEnv[e.Name] = i
		}
		if strings.ContainsRune(e.Value, 0) {
			errs.add(p+".value", "must not contain NUL characters")
		}
	}
	if s.WorkingDir != "" {
		checkAbs("spec.workingDir", s.WorkingDir, errs)
	}
	if strings.ContainsAny(s.User, " \t\n\x00") || strings.Count(s.User, ":") > 1 {
		errs.add("spec.user", "%q is not a user: want NAME, UID, NAME:GROUP or UID:GID", s.User)
	}
	if s.Hostname != "" {
		if len(s.Hostname) > 63 || !dnsLabel.MatchString(s.Hostname) {
			errs.add("spec.hostname", "%q is not a valid hostname: use at most 63 lower-case letters, digits and '-'", s.Hostname)
		} else if s.Network == NetworkHost {
			errs.add("spec.hostname", "cannot be set with network: host (the container shares the host's name)")
		}
	}
	validateMounts(s, errs)
	checkEnum("spec.restartPolicy", s.RestartPolicy, errs, RestartAlways, RestartOnFailure, RestartNever)
	if s.Resources.Memory != "" {
		if n, err := ParseQuantity(s.Resources.Memory); err != nil {
			errs.add("spec.resources.memory", "%v", err)
		} else if n < MinMemory {
			errs.add("spec.resources.memory", "%s is below the minimum of 6Mi", s.Resources.Memory)
		}
	}
	if s.Resources.CPUs != "" {
		if n, err := ParseCPUs(s.Resources.CPUs); err != nil {
			errs.add("spec.resources.cpus", "%v", err)
		} else if n == 0 {
			errs.add("spec.resources.cpus", "must be more than 0 (leave it out for no limit)")
		}
	}
	if s.Resources.Pids < 0 {
		errs.add("spec.resources.pids", "must be 0 (no limit) or more, not %d", s.Resources.Pids)
	}
	if s.StopSignal != "" {
		if _, _, err := ParseSignal(s.StopSignal); err != nil {
			errs.add("spec.stopSignal", "%v", err)
		}
	}
	if s.StopGracePeriod != nil && s.StopGracePeriod.Duration < 0 {
		errs.add("spec.stopGracePeriod", "must not be negative")
	}
	checkEnum("spec.network", s.Network, errs, NetworkNone, NetworkHost)
	checkLabels("spec.labels", s.Labels, errs)
	validateLimits(s, errs)
	validateNames(s, errs)
	validateProcess(s, errs)
}

// validateProcess checks oomScoreAdj and logging with the engine's own
// rules (procopts), and that keeping more than one log file has a size
// to rotate at.
func validateProcess(s *ContainerSpec, errs *fieldErrs) {
	if s.OOMScoreAdj < procopts.MinOOMScoreAdj || s.OOMScoreAdj > procopts.MaxOOMScoreAdj {
		errs.add("spec.oomScoreAdj", "must be between %d and %d, not %d", procopts.MinOOMScoreAdj, procopts.MaxOOMScoreAdj, s.OOMScoreAdj)
	}
	l := s.Logging
	if l == nil {
		return
	}
	if l.MaxSize != "" {
		if n, err := ParseQuantity(l.MaxSize); err != nil {
			errs.add("spec.logging.maxSize", "%v", err)
		} else if err := procopts.CheckLogSize(n); err != nil {
			errs.add("spec.logging.maxSize", "must be more than 0 (leave it out for the engine's limit)")
		}
	}
	if l.MaxFiles != nil {
		if err := procopts.CheckLogFiles(*l.MaxFiles); err != nil {
			errs.add("spec.logging.maxFiles", "%v, not %d", err, *l.MaxFiles)
		} else if *l.MaxFiles > 1 && l.MaxSize == "" {
			errs.add("spec.logging.maxFiles", "keeps %d files, so needs spec.logging.maxSize: the size at which a file is rotated", *l.MaxFiles)
		}
	}
}

// validateLimits checks capDrop, ulimits and shmSize.
func validateLimits(s *ContainerSpec, errs *fieldErrs) {
	dropped := map[string]int{}
	for i, name := range s.CapDrop {
		p := index("spec.capDrop", i)
		c, _, ok := limitnames.Capability(name)
		if !ok {
			errs.add(p, "%q is not a capability", name)
			continue
		}
		if j, dup := dropped[c]; dup {
			errs.add(p, "%s is already dropped by spec.capDrop[%d]", c, j)
		}
		dropped[c] = i
	}
	set := map[string]int{}
	for i, u := range s.Ulimits {
		p := index("spec.ulimits", i)
		switch {
		case u.Name == "":
			errs.add(p+".name", "is required: one of %s", strings.Join(limitnames.Ulimits, ", "))
		case !limitnames.IsUlimit(u.Name):
			errs.add(p+".name", "%q is not a ulimit: use one of %s", u.Name, strings.Join(limitnames.Ulimits, ", "))
		default:
			if j, dup := set[u.Name]; dup {
				errs.add(p+".name", "%s is already set by spec.ulimits[%d]", u.Name, j)
			}
			set[u.Name] = i
		}
		soft := checkLimit(p+".soft", u.Soft, errs)
		hard := checkLimit(p+".hard", u.Hard, errs)
		if soft != nil && hard != nil && uint64(*soft) > uint64(*hard) { // -1, unlimited, is the largest
			errs.add(p+".soft", "%s is more than the hard limit %s", limitString(*soft), limitString(*hard))
		}
	}
	if s.ShmSize != "" {
		if n, err := ParseQuantity(s.ShmSize); err != nil {
			errs.add("spec.shmSize", "%v", err)
		} else if n == 0 {
			errs.add("spec.shmSize", "must be more than 0 (leave it out for Docker's 64Mi)")
		}
	}
}

// checkLimit returns a ulimit's soft or hard limit if it is valid.
func checkLimit(p string, n *int64, errs *fieldErrs) *int64 {
	switch {
	case n == nil:
		errs.add(p, "is required: a number, or -1 for unlimited")
	case *n < -1:
		errs.add(p, "must be -1 (unlimited) or more, not %d", *n)
	default:
		return n
	}
	return nil
}

func limitString(n int64) string {
	if n == -1 {
		return "-1 (unlimited)"
	}
	return strconv.FormatInt(n, 10)
}

// hostName is a name for /etc/hosts or a resolv.conf search domain.
var hostName = regexp.MustCompile(`^[A-Za-z0-9_]([-A-Za-z0-9_.]*[A-Za-z0-9_])?$`)

func checkHostName(p, name, what string, errs *fieldErrs) {
	if len(name) > 253 || !hostName.MatchString(name) {
		errs.add(p, "%q is not a valid %s: use letters, digits, '-', '_' and '.', starting and ending with a letter or digit", name, what)
	}
}

func checkIP(p, ip string, errs *fieldErrs) {
	if ip == "" {
		errs.add(p, "is required: an IPv4 or IPv6 address")
	} else if _, err := netip.ParseAddr(ip); err != nil {
		errs.add(p, "%q is not an IP address", ip)
	}
}

// MaxNameservers is how many nameservers the resolver reads (glibc's
// MAXNS; Kubernetes' limit too).
const MaxNameservers = 3

// validateNames checks hostAliases and dnsConfig.
func validateNames(s *ContainerSpec, errs *fieldErrs) {
	for i, a := range s.HostAliases {
		p := index("spec.hostAliases", i)
		checkIP(p+".ip", a.IP, errs)
		if len(a.Hostnames) == 0 {
			errs.add(p+".hostnames", "is required: the names that resolve to %s", a.IP)
		}
		for j, h := range a.Hostnames {
			checkHostName(index(p+".hostnames", j), h, "hostname", errs)
		}
	}
	d := s.DNSConfig
	if d == nil {
		return
	}
	if len(d.Nameservers) > MaxNameservers {
		errs.add("spec.dnsConfig.nameservers", "lists %d nameservers; the resolver reads at most %d", len(d.Nameservers), MaxNameservers)
	}
	for i, ns := range d.Nameservers {
		checkIP(index("spec.dnsConfig.nameservers", i), ns, errs)
	}
	for i, sd := range d.Searches {
		checkHostName(index("spec.dnsConfig.searches", i), sd, "search domain", errs)
	}
	for i, o := range d.Options {
		p := index("spec.dnsConfig.options", i)
		switch {
		case o.Name == "":
			errs.add(p+".name", "is required: a resolver option like ndots, timeout or rotate")
		case strings.ContainsAny(o.Name, ": \t\r\n\x00"):
			errs.add(p+".name", "%q is not a resolver option: one word without ':' (put the number in value)", o.Name)
		}
		if strings.ContainsAny(o.Value, " \t\r\n\x00") {
			errs.add(p+".value", "%q must be one word", o.Value)
		}
	}
}

// MinMemory is the smallest memory limit Docker accepts.
const MinMemory = 6 << 20

// validateMounts checks every volume, bind and tmpfs, and that no two
// of them share a mount path.
func validateMounts(s *ContainerSpec, errs *fieldErrs) {
	mounted := map[string]string{}
	target := func(p, mountPath string) {
		checkAbs(p, mountPath, errs)
		switch {
		case mountPath == "/":
			errs.add(p, "cannot mount over the container's root")
		case mountPath == "" || !path.IsAbs(mountPath):
		case mounted[mountPath] != "":
			errs.add(p, "%s is already mounted by %s", mountPath, mounted[mountPath])
		default:
			mounted[mountPath] = strings.TrimSuffix(p, ".mountPath")
		}
	}
	for i, v := range s.Volumes {
		p := index("spec.volumes", i)
		checkName(p+".name", v.Name, errs)
		target(p+".mountPath", v.MountPath)
		if sp := v.SubPath; sp != "" && (path.IsAbs(sp) || sp == ".." || strings.HasPrefix(sp, "../")) {
			errs.add(p+".subPath", "%q must be a relative path inside the volume", sp)
		}
	}
	for i, b := range s.Binds {
		p := index("spec.binds", i)
		checkAbs(p+".hostPath", b.HostPath, errs)
		target(p+".mountPath", b.MountPath)
	}
	for i, t := range s.Tmpfs {
		p := index("spec.tmpfs", i)
		target(p+".mountPath", t.MountPath)
		if t.SizeLimit != "" {
			if _, err := ParseQuantity(t.SizeLimit); err != nil {
				errs.add(p+".sizeLimit", "%v", err)
			}
		}
	}
}

func checkEnum(p, v string, errs *fieldErrs, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	hint := ""
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			hint = fmt.Sprintf(" (did you mean %s?)", a)
		}
	}
	errs.add(p, "%q is not one of %s%s", v, strings.Join(allowed, ", "), hint)
}

func validateImage(img *Image, errs *fieldErrs) {
	validateMeta(&img.Metadata, errs)
	s := &img.Spec
	checkHostRef("spec.host", s.Host, errs)
	if s.Tag == "" {
		errs.add("spec.tag", "is required: a name:tag like shop-web:1")
	} else if err := checkTag(s.Tag); err != nil {
		errs.add("spec.tag", "%v", err)
	}
	var sources []string
	if s.Build != nil {
		sources = append(sources, "build")
		if s.Build.Context == "" {
			errs.add("spec.build.context", "is required: the folder to build in, relative to this file")
		}
		for _, k := range sortedKeys(s.Build.Args) {
			if k == "" || strings.ContainsAny(k, "= \t\n\x00") {
				errs.add(child("spec.build.args", k), "%q is not a build argument name", k)
			}
		}
		if s.Build.Target != "" && !stageName.MatchString(s.Build.Target) {
			errs.add("spec.build.target", "%q is not a build stage name", s.Build.Target)
		}
	}
	if s.Import != nil {
		sources = append(sources, "import")
		if s.Import.Path == "" {
			errs.add("spec.import.path", "is required: a docker save archive, OCI layout tarball or rootfs tarball")
		}
	}
	if s.Pull != nil {
		sources = append(sources, "pull")
		if s.Pull.Ref == "" {
			errs.add("spec.pull.ref", "is required: a registry reference like docker.io/library/busybox:1.36")
		} else if err := checkRef(s.Pull.Ref); err != nil {
			errs.add("spec.pull.ref", "%v", err)
		}
	}
	switch len(sources) {
	case 0:
		errs.add("spec", "needs exactly one source: build, import or pull")
	case 1:
	default:
		errs.add("spec", "needs exactly one source, found %s", strings.Join(sources, " and "))
	}
}

func validateVolume(v *Volume, errs *fieldErrs) {
	validateMeta(&v.Metadata, errs)
	checkHostRef("spec.host", v.Spec.Host, errs)
	checkEnum("spec.driver", v.Spec.Driver, errs, DefaultVolumeDriver)
	checkLabels("spec.labels", v.Spec.Labels, errs)
	checkEnum("spec.reclaimPolicy", v.Spec.ReclaimPolicy, errs, ReclaimRetain, ReclaimDelete)
}

// TLSPort is the Docker convention for TLS-protected engine APIs.
const TLSPort = 2376

func validateHost(h *Host, errs *fieldErrs) {
	validateMeta(&h.Metadata, errs)
	if h.Metadata.Name == LocalHost {
		errs.add("metadata.name", "%q is reserved for this machine, which needs no Host object", LocalHost)
	}
	s := &h.Spec
	port, isTCP := checkAddress(s.Address, errs)
	if s.TLS != nil {
		if !isTCP && s.Address != "" {
			errs.add("spec.tls", "is only used with tcp:// addresses")
		}
		for _, f := range []struct{ name, v string }{{"caFile", s.TLS.CAFile}, {"certFile", s.TLS.CertFile}, {"keyFile", s.TLS.KeyFile}} {
			if f.v == "" {
				errs.add("spec.tls."+f.name, "is required: a PEM file, relative to this file")
			}
		}
	} else if port == TLSPort {
		errs.add("spec.tls", "is required for port %d: set caFile, certFile and keyFile (see reconciler certs)", TLSPort)
	}
	if s.Timeout != nil && s.Timeout.Duration <= 0 {
		errs.add("spec.timeout", "must be more than 0")
	}
}

// checkAddress accepts unix:///abs/path and tcp://host:port.
func checkAddress(addr string, errs *fieldErrs) (port int, isTCP bool) {
	const p = "spec.address"
	if addr == "" {
		errs.add(p, "is required: unix:///path/to.sock or tcp://host:port")
		return 0, false
	}
	u, err := url.Parse(addr)
	if err != nil {
		errs.add(p, "%q is not an address: want unix:///path/to.sock or tcp://host:port", addr)
		return 0, false
	}
	switch u.Scheme {
	case "unix":
		if u.Host != "" || !path.IsAbs(u.Path) {
			errs.add(p, "%q: a unix address needs an absolute path, like unix:///run/reconciler/reconciler.sock", addr)
		}
		return 0, false
	case "tcp":
		host, portStr, err := net.SplitHostPort(u.Host)
		port, perr := strconv.Atoi(portStr)
		if err != nil || host == "" || perr != nil || port < 1 || port > 65535 || (u.Path != "" && u.Path != "/") {
			errs.add(p, "%q: a tcp address needs a host and a port, like tcp://10.0.0.5:2376", addr)
			return 0, true
		}
		return port, true
	}
	errs.add(p, "%q: the scheme must be unix:// or tcp://", addr)
	return 0, false
}
