package nsinit

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSpecRoundTrip(t *testing.T) {
	in := &Spec{
		LowerDirs: []string{"/l/0", "/l/1,with:odd chars"}, UpperDir: "/u", WorkDir: "/w", RootfsDir: "/r",
		Mounts: []Mount{{Type: "bind", Source: "/src", Target: "/dst", ReadOnly: true, SubPath: "a/b"},
			{Type: "tmpfs", Target: "/t", Size: 1 << 20}},
		Files: []File{{Target: "/etc/hosts", Data: "127.0.0.1 localhost\n"}, {Target: "/etc/empty"}},
		Tty:   true, Rows: 24, Cols: 80, NullStdin: true, JoinHostNet: true,
		Args: []string{"sh", "-c", "echo \x00 ünïcode"}, Env: []string{"A=1", "B="},
		Cwd: "/app", User: "app:staff", Hostname: "h", Network: "none",
		ReadOnly: true, ShmSize: 1 << 20, CapDrop: 1<<13 | 1, OOMScoreAdj: -5, Volatile: true,
		Rlimits: []Rlimit{{Name: "nofile", Resource: 7, Soft: 100, Hard: 200}, {Name: "core", Resource: 4, Soft: ^uint64(0), Hard: ^uint64(0)}},
	}
	out, err := Unmarshal(in.Marshal())
	if err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n%+v\n%+v (%v)", in, out, err)
	}
	if _, err := Unmarshal([]byte{tArg, 200}); err == nil {
		t.Fatal("truncated record accepted")
	}
}

func TestFailureRoundTrip(t *testing.T) {
	in := &Failure{Msg: "exec /x: nope", Program: true, Errno: syscall.ENOENT, NotFound: true}
	if out := UnmarshalFailure(in.Marshal()); !reflect.DeepEqual(in, out) {
		t.Fatalf("%+v != %+v", in, out)
	}
	if out := UnmarshalFailure([]byte("plain text")); out.Msg != "plain text" {
		t.Fatalf("plain text failure: %+v", out)
	}
}

func TestBuildEnvAndLookPath(t *testing.T) {
	env := buildEnv([]string{"A=1"}, "host", "/home/x")
	want := []string{"A=1", DefaultPath, "HOSTNAME=host", "HOME=/home/x"}
	if !reflect.DeepEqual(env, want) {
		t.Fatalf("buildEnv = %q", env)
	}
	if env := buildEnv([]string{"PATH=/x", "HOME=/h", "HOSTNAME=y"}, "host", "/home/x"); len(env) != 3 {
		t.Fatalf("buildEnv overrode explicit values: %q", env)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "prog"), nil, 0o755)
	os.WriteFile(filepath.Join(dir, "data"), nil, 0o644)
	if p, err := lookPath("prog", []string{"PATH=/nonexistent:" + dir}); err != nil || p != dir+"/prog" {
		t.Fatalf("lookPath = %q, %v", p, err)
	}
	_, err := lookPath("data", []string{"PATH=" + dir})
	if f, ok := err.(*Failure); !ok || !f.NotFound || !f.Program {
		t.Fatalf("non-executable file found: %v", err)
	}
	if p, _ := lookPath("./rel", nil); p != "./rel" {
		t.Fatalf("path with a slash looked up: %q", p)
	}
}

func TestMkdirAll(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a/b//c/")
	if err := mkdirAll(p); err != nil || !isDir(filepath.Join(dir, "a/b/c")) {
		t.Fatalf("mkdirAll: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
	if err := mkdirAll(filepath.Join(dir, "file")); err == nil {
		t.Fatal("mkdirAll over a file succeeded")
	}
	if err := mkdirAll(filepath.Join(dir, "file/sub")); err == nil {
		t.Fatal("mkdirAll under a file succeeded")
	}
	// What exists is fine, through a link to a directory too.
	os.Symlink("a", filepath.Join(dir, "link"))
	for _, p := range []string{"a/b", "link/b/c", "link/new/deeper"} {
		if err := mkdirAll(filepath.Join(dir, p)); err != nil || !isDir(filepath.Join(dir, p)) {
			t.Fatalf("mkdirAll %s: %v", p, err)
		}
	}
}

// bpfRun interprets the classic BPF subset the filter uses.
func bpfRun(t *testing.T, prog []unix.SockFilter, nr, arch uint32, arg0 uint32) uint32 {
	t.Helper()
	var acc uint32
	load := func(off uint32) uint32 {
		switch off {
		case offNr:
			return nr
		case offArch:
			return arch
		case offArg0:
			return arg0
		}
		t.Fatalf("load of offset %d", off)
		return 0
	}
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		switch ins.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			acc = load(ins.K)
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			acc &= ins.K
		case unix.BPF_RET | unix.BPF_K:
			return ins.K
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var cond bool
			switch ins.Code &^ (unix.BPF_JMP | unix.BPF_K) {
			case unix.BPF_JEQ:
				cond = acc == ins.K
			case unix.BPF_JGE:
				cond = acc >= ins.K
			case unix.BPF_JSET:
				cond = acc&ins.K != 0
			}
			if cond {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		default:
			t.Fatalf("unexpected opcode %#x at %d", ins.Code, pc)
		}
	}
	t.Fatal("program fell off its end")
	return 0
}

func TestSeccompFilterVerdicts(t *testing.T) {
	if len(arches) == 0 {
		t.Skip("no seccomp table for this port")
	}
	f := filter()
	if len(f) > 4096 {
		t.Fatalf("filter of %d instructions exceeds BPF_MAXINSNS", len(f))
	}
	for _, a := range arches {
		for _, nr := range a.denied {
			if v := bpfRun(t, f, nr, a.audit, 0); v != retEPERM {
				t.Errorf("arch %#x: denied call %d gets %#x", a.audit, nr, v)
			}
		}
		if v := bpfRun(t, f, a.clone, a.audit, uint32(unix.SIGCHLD)|unix.CLONE_VM); v != retAllow {
			t.Errorf("arch %#x: plain clone gets %#x", a.audit, v)
		}
		if v := bpfRun(t, f, a.clone, a.audit, unix.CLONE_NEWUSER); v != retEPERM {
			t.Errorf("arch %#x: clone(CLONE_NEWUSER) gets %#x", a.audit, v)
		}
		if v := bpfRun(t, f, a.clone3, a.audit, 0); v != retENOSYS {
			t.Errorf("arch %#x: clone3 gets %#x", a.audit, v)
		}
		denied := map[uint32]bool{a.clone: true, a.clone3: true}
		for _, nr := range a.denied {
			denied[nr] = true
		}
		for nr := uint32(0); nr < 500; nr++ {
			if !denied[nr] {
				if v := bpfRun(t, f, nr, a.audit, unix.CLONE_NEWUSER); v != retAllow {
					t.Fatalf("arch %#x: call %d gets %#x, want allow", a.audit, nr, v)
				}
			}
		}
		if a.clearX32BitNrs {
			if v := bpfRun(t, f, unix.SYS_UNSHARE|0x40000000, a.audit, 0); v != retEPERM {
				t.Errorf("x32 unshare gets %#x", v)
			}
		}
	}
	if v := bpfRun(t, f, 0, 0x12345678, 0); v != retEPERM {
		t.Errorf("unknown architecture gets %#x", v)
	}
}
