package localbackend

import (
	"fmt"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

// unsupported is a create field the engine does not honour: set says
// whether a request asks for it (the CLI sends every field, so its zero
// and default values never count), why is the error, after the flag.
type unsupported struct {
	flag string
	set  func(*container.Config, *container.HostConfig) bool
	why  string
}

const (
	noBridge = "needs a bridge network, which this engine does not have"
	noCgroup = "is not supported by this engine, whose cgroup limits are --memory, --cpus and --pids-limit"
)

// unsupportedFields are the fields of container.Config and HostConfig a
// user may set that the engine would otherwise silently ignore. Fields
// not listed are honoured (or handled in checkCreate, by network mode),
// are metadata with no effect in dockerd either (ExposedPorts, Shell,
// OnBuild, ArgsEscaped, ContainerIDFile), or belong to engineConfig's own
// checks (Privileged, CapAdd) and limitsOf (ReadonlyRootfs, Ulimits,
// ShmSize, CapDrop), or are checked by the engine (Init, OomScoreAdj,
// LogConfig.Config).
var unsupportedFields = []unsupported{
	{"--domainname", func(c *container.Config, _ *container.HostConfig) bool { return c.Domainname != "" }, "is not supported by this engine: put the full name in -h/--hostname"},
	{"--health-cmd (and the other --health-* flags)", func(c *container.Config, _ *container.HostConfig) bool {
		return c.Healthcheck != nil && !slices.Equal(c.Healthcheck.Test, []string{"NONE"})
	}, "health checks are not supported by this engine: check from outside, e.g. with docker exec"},

	{"--volumes-from", func(_ *container.Config, h *container.HostConfig) bool { return len(h.VolumesFrom) > 0 }, "is not supported by this engine: mount the same volumes with -v NAME:/PATH"},
	{"--volume-driver", func(_ *container.Config, h *container.HostConfig) bool {
		return h.VolumeDriver != "" && h.VolumeDriver != "local"
	}, "is not supported: the only volume driver is local"},
	{"--log-driver", func(_ *container.Config, h *container.HostConfig) bool {
		return h.LogConfig.Type != "" && h.LogConfig.Type != "json-file"
	}, "is not supported: the only log driver is json-file"},
	{"--link", func(_ *container.Config, h *container.HostConfig) bool { return len(h.Links) > 0 }, noBridge + ": with --network host, reach the other container's ports on 127.0.0.1"},
	{"--group-add", func(_ *container.Config, h *container.HostConfig) bool { return len(h.GroupAdd) > 0 }, "is not supported by this engine: give the group in -u/--user UID:GID"},
	{"--ipc", func(_ *container.Config, h *container.HostConfig) bool {
		return h.IpcMode != "" && h.IpcMode != "private" && h.IpcMode != "shareable"
	}, "is not supported: every container has its own IPC namespace"},
	{"--pid", func(_ *container.Config, h *container.HostConfig) bool { return h.PidMode != "" }, "is not supported: every container has its own PID namespace"},
	{"--uts", func(_ *container.Config, h *container.HostConfig) bool { return h.UTSMode != "" }, "is not supported: every container has its own UTS namespace (host name)"},
	{"--userns", func(_ *container.Config, h *container.HostConfig) bool {
		return h.UsernsMode != "" && h.UsernsMode != "host"
	}, "is not supported: containers run without a user namespace, as with --userns host"},
	{"--cgroupns", func(_ *container.Config, h *container.HostConfig) bool {
		return h.CgroupnsMode != "" && h.CgroupnsMode != "host"
	}, "is not supported: containers share the host's cgroup namespace, as with --cgroupns host"},
	{"HostConfig.Cgroup", func(_ *container.Config, h *container.HostConfig) bool { return h.Cgroup != "" }, "is not supported by this engine"},
	{"--security-opt", func(_ *container.Config, h *container.HostConfig) bool {
		return slices.ContainsFunc(h.SecurityOpt, func(o string) bool {
			return o != "no-new-privileges" && o != "no-new-privileges:true" && o != "no-new-privileges=true"
		})
	}, "is not supported, except no-new-privileges (always on here): containers get Docker's default seccomp filter and capabilities"},
	{"--security-opt systempaths=unconfined", func(_ *container.Config, h *container.HostConfig) bool {
		return h.MaskedPaths != nil || h.ReadonlyPaths != nil
	}, "is not supported: /proc and /sys are always masked as Docker's defaults"},
	{"--storage-opt", func(_ *container.Config, h *container.HostConfig) bool { return len(h.StorageOpt) > 0 }, "is not supported by this engine's overlay storage"},
	{"--sysctl", func(_ *container.Config, h *container.HostConfig) bool { return len(h.Sysctls) > 0 }, "is not supported by this engine"},
	{"--runtime", func(_ *container.Config, h *container.HostConfig) bool {
		return h.Runtime != "" && h.Runtime != "reconciler"
	}, "is not supported: this engine has one runtime, its own (reconciler)"},
	{"HostConfig.Umask", func(_ *container.Config, h *container.HostConfig) bool { return h.Umask != nil }, "is not supported by this engine"},
	{"--isolation", func(_ *container.Config, h *container.HostConfig) bool {
		return h.Isolation != "" && h.Isolation != "default"
	}, "is not supported: Linux containers have only the default isolation"},
	{"--annotation", func(_ *container.Config, h *container.HostConfig) bool { return len(h.Annotations) > 0 }, "is not supported by this engine: use --label"},

	{"--cpu-shares", func(_ *container.Config, h *container.HostConfig) bool { return h.CPUShares != 0 }, noCgroup},
	{"--cgroup-parent", func(_ *container.Config, h *container.HostConfig) bool { return h.CgroupParent != "" }, "is not supported: the engine places every container in its own cgroup"},
	{"--blkio-weight", func(_ *container.Config, h *container.HostConfig) bool { return h.BlkioWeight != 0 }, noCgroup},
	{"--blkio-weight-device", func(_ *container.Config, h *container.HostConfig) bool { return len(h.BlkioWeightDevice) > 0 }, noCgroup},
	{"--device-read-bps", func(_ *container.Config, h *container.HostConfig) bool { return len(h.BlkioDeviceReadBps) > 0 }, noCgroup},
	{"--device-write-bps", func(_ *container.Config, h *container.HostConfig) bool { return len(h.BlkioDeviceWriteBps) > 0 }, noCgroup},
	{"--device-read-iops", func(_ *container.Config, h *container.HostConfig) bool { return len(h.BlkioDeviceReadIOps) > 0 }, noCgroup},
	{"--device-write-iops", func(_ *container.Config, h *container.HostConfig) bool { return len(h.BlkioDeviceWriteIOps) > 0 }, noCgroup},
	{"--cpu-rt-period", func(_ *container.Config, h *container.HostConfig) bool { return h.CPURealtimePeriod != 0 }, noCgroup},
	{"--cpu-rt-runtime", func(_ *container.Config, h *container.HostConfig) bool { return h.CPURealtimeRuntime != 0 }, noCgroup},
	{"--cpuset-cpus", func(_ *container.Config, h *container.HostConfig) bool { return h.CpusetCpus != "" }, noCgroup},
	{"--cpuset-mems", func(_ *container.Config, h *container.HostConfig) bool { return h.CpusetMems != "" }, noCgroup},
	{"--cpus with --cpu-period or --cpu-quota", func(_ *container.Config, h *container.HostConfig) bool {
		return h.NanoCPUs != 0 && (h.CPUPeriod != 0 || h.CPUQuota != 0)
	}, "conflicting options: give either --cpus or --cpu-quota (with --cpu-period)"},
	{"--device", func(_ *container.Config, h *container.HostConfig) bool { return len(h.Devices) > 0 }, "is not supported: containers get Docker's minimal /dev"},
	{"--device-cgroup-rule", func(_ *container.Config, h *container.HostConfig) bool { return len(h.DeviceCgroupRules) > 0 }, "is not supported: containers get Docker's minimal /dev"},
	{"--gpus", func(_ *container.Config, h *container.HostConfig) bool { return len(h.DeviceRequests) > 0 }, "is not supported by this engine"},
	{"--memory-reservation", func(_ *container.Config, h *container.HostConfig) bool { return h.MemoryReservation != 0 }, noCgroup},
	{"--memory-swap", func(_ *container.Config, h *container.HostConfig) bool {
		return h.MemorySwap != 0 && h.MemorySwap != -1 && h.MemorySwap != h.Memory
	}, "is not supported: containers get no swap; leave it unset or give -1 or the value of --memory"},
	{"--memory-swappiness", func(_ *container.Config, h *container.HostConfig) bool {
		return h.MemorySwappiness != nil && *h.MemorySwappiness != -1
	}, noCgroup},
	{"--oom-kill-disable", func(_ *container.Config, h *container.HostConfig) bool {
		return h.OomKillDisable != nil && *h.OomKillDisable
	}, noCgroup},
	{"--cpu-count", func(_ *container.Config, h *container.HostConfig) bool { return h.CPUCount != 0 }, "is a Windows option"},
	{"--cpu-percent", func(_ *container.Config, h *container.HostConfig) bool { return h.CPUPercent != 0 }, "is a Windows option"},
	{"--io-maxiops", func(_ *container.Config, h *container.HostConfig) bool { return h.IOMaximumIOps != 0 }, "is a Windows option"},
	{"--io-maxbandwidth", func(_ *container.Config, h *container.HostConfig) bool { return h.IOMaximumBandwidth != 0 }, "is a Windows option"},
}

// unsupportedEndpoint are the per-network settings of a create request
// (NetworkingConfig.EndpointsConfig), none of which the engine has.
var unsupportedEndpoint = []struct {
	flag string
	set  func(*network.EndpointSettings) bool
}{
	{"--ip, --ip6 and --link-local-ip", func(e *network.EndpointSettings) bool {
		ip := e.IPAMConfig
		return ip != nil && (ip.IPv4Address.IsValid() || ip.IPv6Address.IsValid() || len(ip.LinkLocalIPs) > 0)
	}},
	{"--network-alias", func(e *network.EndpointSettings) bool { return len(e.Aliases) > 0 }},
	{"--link", func(e *network.EndpointSettings) bool { return len(e.Links) > 0 }},
	{"--mac-address", func(e *network.EndpointSettings) bool { return len(e.MacAddress) > 0 }},
	{"--network driver options", func(e *network.EndpointSettings) bool { return len(e.DriverOpts) > 0 }},
}

// hostPortsWarning is dockerd's warning for -p with --network host.
const hostPortsWarning = "Published ports are discarded when using host network mode"

// checkCreate refuses a create request that sets what the engine does not
// honour, naming the docker flag and what to do instead, and returns the
// warnings for what it accepts but discards (as dockerd does).
func checkCreate(cc dockerapi.ContainerCreateConfig) (warnings []string, err error) {
	c, h := cc.Config, cc.HostConfig
	if c == nil {
		return nil, nil // engineConfig says it is required
	}
	if h == nil {
		h = &container.HostConfig{}
	}
	refuse := func(flag, why string) error {
		return fmt.Errorf("%w: %s %s", engine.ErrInvalid, flag, why)
	}
	for _, u := range unsupportedFields {
		if u.set(c, h) {
			return nil, refuse(u.flag, u.why)
		}
	}
	if err := checkNetworkMode(h.NetworkMode); err != nil {
		return nil, err
	}
	if cc.NetworkingConfig != nil {
		for _, u := range unsupportedEndpoint {
			for name, e := range cc.NetworkingConfig.EndpointsConfig {
				if e != nil && u.set(e) {
					return nil, refuse(u.flag, "("+name+" network) "+noBridge)
				}
			}
		}
	}
	if len(h.PortBindings) > 0 || h.PublishAllPorts {
		if h.NetworkMode != "host" {
			flag := "-p/--publish"
			if len(h.PortBindings) == 0 {
				flag = "-P/--publish-all"
			}
			return nil, refuse(flag, noBridge+": use --network host and have the program listen on the port")
		}
		warnings = append(warnings, hostPortsWarning)
	}
	return warnings, nil
}

// checkNetworkMode accepts the networks the engine has: none (also the
// CLI's "default" when no --network is given) and host.
func checkNetworkMode(m container.NetworkMode) error {
	switch {
	case m == "" || m == "default" || m == "none" || m == "host":
		return nil
	case strings.HasPrefix(string(m), "container:"):
		return fmt.Errorf("%w: --network %s (another container's network) is not supported: give both containers --network host, or none", engine.ErrInvalid, m)
	case m == "bridge":
		return fmt.Errorf("%w: --network bridge: this engine has no bridge network, only none (the default: loopback only) and host: use --network host for the host's network", engine.ErrInvalid)
	}
	return fmt.Errorf("%w: --network %s: no such network: this engine has only none (the default: loopback only) and host (docker network create is not supported)", engine.ErrInvalid, m)
}
