package local

import (
	"fmt"
	"sort"
	"strconv"

	units "github.com/docker/go-units"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// processOptions sets the spec's --init, --oom-score-adj and --log-opt;
// unset, they cost nothing.
func processOptions(cfg engine.ContainerConfig, spec *runtime.Spec) error {
	if cfg.Init {
		p, err := sandbox.FindInit()
		if err != nil {
			return fmt.Errorf("%w: --init: %v", engine.ErrInvalid, err)
		}
		spec.Init = p
	}
	if err := sandbox.CheckOOMScoreAdj(cfg.OOMScoreAdj); err != nil {
		return fmt.Errorf("%w: %v", engine.ErrInvalid, err)
	}
	spec.OOMScoreAdj = cfg.OOMScoreAdj
	if len(cfg.LogOptions) > 0 {
		size, files, err := logLimits(cfg.LogOptions)
		if err != nil {
			return err
		}
		spec.LogMaxSize, spec.LogMaxFiles, spec.LogOptions = size, files, cfg.LogOptions
	}
	return nil
}

// logLimits reads the json-file log's max-size and max-file as dockerd
// does: a size with units (decimal: 1k is 1000 bytes), at least one file,
// and one file when only max-size is given. The json-file driver's other
// options are refused by name.
func logLimits(opts map[string]string) (size int64, files int, err error) {
	bad := func(format string, a ...any) (int64, int, error) {
		return 0, 0, fmt.Errorf("%w: --log-opt "+format, append([]any{engine.ErrInvalid}, a...)...)
	}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := opts[k]
		switch k {
		case "max-size":
			if size, err = units.FromHumanSize(v); err != nil || size <= 0 {
				return bad("max-size=%s: want a positive size such as 10m", v)
			}
		case "max-file":
			if files, err = strconv.Atoi(v); err != nil || files < 1 {
				return bad("max-file=%s: want a whole number of at least 1", v)
			}
		default:
			return bad("%s is not supported: the json-file log takes max-size and max-file only", k)
		}
	}
	if size > 0 && files == 0 {
		files = 1
	}
	return size, files, nil
}
