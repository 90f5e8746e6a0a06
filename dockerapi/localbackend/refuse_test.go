package localbackend

import (
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/blkiodev"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

// cliCreateBody is what `docker create busybox` (CLI 28.2.2, API 1.41)
// sends, captured byte for byte: every field, at its zero or default value.
const cliCreateBody = `{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"busybox","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":0,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},"NetworkingConfig":{"EndpointsConfig":{"default":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}}`

// cliCreate decodes cliCreateBody, as the server does.
func cliCreate(t *testing.T) dockerapi.ContainerCreateConfig {
	t.Helper()
	var req container.CreateRequest
	if err := json.Unmarshal([]byte(cliCreateBody), &req); err != nil {
		t.Fatal(err)
	}
	return dockerapi.ContainerCreateConfig{Config: req.Config, HostConfig: req.HostConfig, NetworkingConfig: req.NetworkingConfig}
}

func TestCheckCreateAcceptsCLIDefaults(t *testing.T) {
	for _, mode := range []container.NetworkMode{"default", "none", "host", ""} {
		cc := cliCreate(t)
		cc.HostConfig.NetworkMode = mode
		if w, err := checkCreate(cc); err != nil || len(w) != 0 {
			t.Errorf("network %q: warnings %q, error %v", mode, w, err)
		}
	}
	// What is honoured, or has no effect in dockerd either, passes too.
	cc := cliCreate(t)
	c, h := cc.Config, cc.HostConfig
	c.ExposedPorts = network.PortSet{network.MustParsePort("80/tcp"): {}}
	c.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
	h.LogConfig.Type = "json-file"
	h.SecurityOpt = []string{"no-new-privileges"}
	h.UsernsMode, h.CgroupnsMode, h.IpcMode = "host", "host", "private"
	h.Memory, h.MemorySwap = 64<<20, 64<<20
	h.CPUQuota, h.CPUPeriod = 50000, 100000
	h.ExtraHosts = []string{"a:1.2.3.4"}
	h.DNS = []netip.Addr{netip.MustParseAddr("1.1.1.1")}
	if w, err := checkCreate(cc); err != nil || len(w) != 0 {
		t.Errorf("honoured fields: warnings %q, error %v", w, err)
	}
}

func TestCheckCreateRefuses(t *testing.T) {
	yes, five := true, int64(5)
	var umask uint32 = 0o22
	cases := []struct {
		flag string // in the error, and the table entry it covers
		set  func(*dockerapi.ContainerCreateConfig)
	}{
		{"--domainname", func(cc *dockerapi.ContainerCreateConfig) { cc.Config.Domainname = "example.com" }},
		{"--health-cmd", func(cc *dockerapi.ContainerCreateConfig) {
			cc.Config.Healthcheck = &container.HealthConfig{Test: []string{"CMD-SHELL", "true"}}
		}},
		{"--volumes-from", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.VolumesFrom = []string{"c1"} }},
		{"--volume-driver", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.VolumeDriver = "nfs" }},
		{"--log-driver", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.LogConfig.Type = "none" }},
		{"--link", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.Links = []string{"db:db"} }},
		{"--group-add", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.GroupAdd = []string{"10"} }},
		{"--ipc", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.IpcMode = "host" }},
		{"--pid", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.PidMode = "host" }},
		{"--uts", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.UTSMode = "host" }},
		{"--userns", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.UsernsMode = "private" }},
		{"--cgroupns", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.CgroupnsMode = "private" }},
		{"HostConfig.Cgroup", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.Cgroup = "container:x" }},
		{"--security-opt", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.SecurityOpt = []string{"seccomp=unconfined"} }},
		{"--security-opt systempaths=unconfined", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.MaskedPaths, cc.HostConfig.ReadonlyPaths = []string{}, []string{}
		}},
		{"--storage-opt", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.StorageOpt = map[string]string{"size": "1G"} }},
		{"--sysctl", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"}
		}},
		{"--runtime", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.Runtime = "runc" }},
		{"HostConfig.Umask", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.Umask = &umask }},
		{"--isolation", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.Isolation = "hyperv" }},
		{"--annotation", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.Annotations = map[string]string{"a": "b"} }},
		{"--cpu-shares", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.CPUShares = 512 }},
		{"--cgroup-parent", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.CgroupParent = "/x" }},
		{"--blkio-weight", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.BlkioWeight = 10 }},
		{"--blkio-weight-device", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.BlkioWeightDevice = []*blkiodev.WeightDevice{{Path: "/dev/sda", Weight: 10}}
		}},
		{"--device-read-bps", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.BlkioDeviceReadBps = []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 1}}
		}},
		{"--device-write-bps", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.BlkioDeviceWriteBps = []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 1}}
		}},
		{"--device-read-iops", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.BlkioDeviceReadIOps = []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 1}}
		}},
		{"--device-write-iops", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.BlkioDeviceWriteIOps = []*blkiodev.ThrottleDevice{{Path: "/dev/sda", Rate: 1}}
		}},
		{"--cpu-rt-period", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.CPURealtimePeriod = 1000 }},
		{"--cpu-rt-runtime", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.CPURealtimeRuntime = 5 }},
		{"--cpuset-cpus", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.CpusetCpus = "0" }},
		{"--cpuset-mems", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.CpusetMems = "0" }},
		{"--cpus with --cpu-period or --cpu-quota", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.NanoCPUs, cc.HostConfig.CPUPeriod = 1e9, 1000
		}},
		{"--device", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.Devices = []container.DeviceMapping{{PathOnHost: "/dev/null", PathInContainer: "/dev/null", CgroupPermissions: "rwm"}}
		}},
		{"--device-cgroup-rule", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.DeviceCgroupRules = []string{"c 1:3 mr"} }},
		{"--gpus", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.DeviceRequests = []container.DeviceRequest{{Count: -1, Capabilities: [][]string{{"gpu"}}}}
		}},
		{"--memory-reservation", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.MemoryReservation = 10 << 20 }},
		{"--memory-swap", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.Memory, cc.HostConfig.MemorySwap = 50<<20, 100<<20
		}},
		{"--memory-swappiness", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.MemorySwappiness = &five }},
		{"--oom-kill-disable", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.OomKillDisable = &yes }},
		{"--cpu-count", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.CPUCount = 1 }},
		{"--cpu-percent", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.CPUPercent = 1 }},
		{"--io-maxiops", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.IOMaximumIOps = 1 }},
		{"--io-maxbandwidth", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.IOMaximumBandwidth = 1 }},

		// By network mode.
		{"-p/--publish", func(cc *dockerapi.ContainerCreateConfig) {
			cc.HostConfig.PortBindings = network.PortMap{network.MustParsePort("80/tcp"): {{HostPort: "8080"}}}
		}},
		{"-P/--publish-all", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.PublishAllPorts = true }},
		{"--network bridge", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.NetworkMode = "bridge" }},
		{"--network mynet: no such network", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.NetworkMode = "mynet" }},
		{"--network container:db", func(cc *dockerapi.ContainerCreateConfig) { cc.HostConfig.NetworkMode = "container:db" }},
		{"--ip, --ip6 and --link-local-ip", func(cc *dockerapi.ContainerCreateConfig) {
			cc.NetworkingConfig.EndpointsConfig["default"].IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: netip.MustParseAddr("10.0.0.5")}
		}},
		{"--network-alias", func(cc *dockerapi.ContainerCreateConfig) {
			cc.NetworkingConfig.EndpointsConfig["default"].Aliases = []string{"al"}
		}},
		{"--link (default network)", func(cc *dockerapi.ContainerCreateConfig) {
			cc.NetworkingConfig.EndpointsConfig["default"].Links = []string{"a:b"}
		}},
		{"--mac-address", func(cc *dockerapi.ContainerCreateConfig) {
			cc.NetworkingConfig.EndpointsConfig["default"].MacAddress = network.HardwareAddr{2, 0x42, 0xac, 0x11, 0, 2}
		}},
		{"--network driver options", func(cc *dockerapi.ContainerCreateConfig) {
			cc.NetworkingConfig.EndpointsConfig["default"].DriverOpts = map[string]string{"a": "b"}
		}},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		cc := cliCreate(t)
		tc.set(&cc)
		_, err := checkCreate(cc)
		if !errors.Is(err, engine.ErrInvalid) || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%s: error %v, want ErrInvalid naming %s", tc.flag, err, tc.flag)
			continue
		}
		for _, u := range unsupportedFields {
			if strings.Contains(err.Error(), ": "+u.flag+" ") {
				covered[u.flag] = true
			}
		}
	}
	for _, u := range unsupportedFields {
		if !covered[u.flag] {
			t.Errorf("no case refuses %s", u.flag)
		}
	}
}

func TestCheckCreatePortsWithHostNetwork(t *testing.T) {
	cc := cliCreate(t)
	cc.HostConfig.NetworkMode = "host"
	cc.HostConfig.PortBindings = network.PortMap{network.MustParsePort("80/tcp"): {{HostPort: "8080"}}}
	w, err := checkCreate(cc)
	if err != nil || len(w) != 1 || w[0] != hostPortsWarning {
		t.Fatalf("warnings %q, error %v; want dockerd's warning", w, err)
	}
	cc.HostConfig.NetworkMode = "default"
	if _, err := checkCreate(cc); err == nil || !strings.Contains(err.Error(), "use --network host and have the program listen on the port") {
		t.Fatalf("default network: %v", err)
	}
}

func TestExtraHost(t *testing.T) {
	for _, tc := range []struct{ in, network, want, err string }{
		{"a:1.2.3.4", "none", "a:1.2.3.4", ""},
		{"a=1.2.3.4", "none", "a:1.2.3.4", ""},
		{"v6:fd00::1", "none", "v6:fd00::1", ""},
		{"v6:[fd00::1]", "none", "v6:fd00::1", ""},
		{"gw:host-gateway", "host", "gw:127.0.0.1", ""},
		{"gw:host-gateway", "none", "", "host-gateway needs a bridge network"},
		{"a:nope", "none", "", "invalid IP address in add-host"},
		{"a", "none", "", "want NAME:IP"},
		{":1.2.3.4", "none", "", "want NAME:IP"},
	} {
		got, err := extraHost(tc.in, tc.network)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && (!strings.Contains(err.Error(), tc.err) || !errors.Is(err, engine.ErrInvalid))) {
			t.Errorf("extraHost(%q, %s) = %q, %v; want %q, %q", tc.in, tc.network, got, err, tc.want, tc.err)
		}
	}
}

// TestMountOptions: every --mount option is honoured or refused by name;
// the defaults the CLI sends pass.
func TestMountOptions(t *testing.T) {
	for _, tc := range []struct {
		m    mount.Mount
		want engine.Mount // when err is ""
		err  string
	}{
		{m: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "/t", BindOptions: &mount.BindOptions{Propagation: mount.PropagationRPrivate}},
			want: engine.Mount{Type: engine.MountBind, Source: "/s", Target: "/t"}},
		{m: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "/t", ReadOnly: true, Consistency: mount.ConsistencyCached,
			BindOptions: &mount.BindOptions{ReadOnlyForceRecursive: true, CreateMountpoint: true}},
			want: engine.Mount{Type: engine.MountBind, Source: "/s", Target: "/t", ReadOnly: true, CreateSource: true}},
		{m: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/t", VolumeOptions: &mount.VolumeOptions{
			NoCopy: true, Labels: map[string]string{"a": "b"}, Subpath: "sub", DriverConfig: &mount.Driver{Name: "local"}}},
			want: engine.Mount{Type: engine.MountVolume, Source: "v", Target: "/t", NoCopy: true, VolumeLabels: map[string]string{"a": "b"}, SubPath: "sub"}},
		{m: mount.Mount{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20, Mode: 0o1770}},
			want: engine.Mount{Type: engine.MountTmpfs, Target: "/t", Size: 1 << 20, Mode: 0o1770}},

		{m: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "/t", BindOptions: &mount.BindOptions{Propagation: mount.PropagationShared}},
			err: "--mount bind-propagation=shared is not supported: binds are private"},
		{m: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "/t", BindOptions: &mount.BindOptions{NonRecursive: true}},
			err: "--mount bind-recursive=disabled (bind-nonrecursive) is not supported"},
		{m: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "/t", ReadOnly: true, BindOptions: &mount.BindOptions{ReadOnlyNonRecursive: true}},
			err: "--mount bind-recursive=writable is not supported"},
		{m: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/t", VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "nfs"}}},
			err: "--mount volume-driver=nfs is not supported: the only volume driver is local"},
		{m: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/t", VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Options: map[string]string{"type": "nfs"}}}},
			err: "--mount volume-opt is not supported"},
		{m: mount.Mount{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{Options: [][]string{{"exec"}}}},
			err: "--mount tmpfs-options is not supported"},
		{m: mount.Mount{Type: mount.TypeTmpfs, Target: "/t", TmpfsOptions: &mount.TmpfsOptions{Mode: 0o17777}},
			err: "--mount tmpfs-mode=17777: want octal permission bits"},
		{m: mount.Mount{Type: mount.TypeVolume, Source: "v", Target: "/t", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1}},
			err: "tmpfs options are not allowed with type=volume"},
		{m: mount.Mount{Type: mount.TypeBind, Source: "/s", Target: "/t", Consistency: "fast"},
			err: "--mount consistency=fast"},
		{m: mount.Mount{Type: mount.TypeImage, Source: "img", Target: "/t"}, err: `mount type "image" is not supported`},
	} {
		cc := cliCreate(t)
		cc.HostConfig.Mounts = []mount.Mount{tc.m}
		got, err := engineConfig(cc)
		if tc.err != "" {
			if !errors.Is(err, engine.ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: error %v, want %q", tc.m, err, tc.err)
			}
			continue
		}
		if err != nil || len(got.Mounts) != 1 || !reflect.DeepEqual(got.Mounts[0], tc.want) {
			t.Errorf("%+v: %+v, %v; want %+v", tc.m, got.Mounts, err, tc.want)
		}
	}
}
