package local

import (
	"fmt"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/internal/procopts"
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
	if err := procopts.CheckOOMScoreAdj(cfg.OOMScoreAdj); err != nil {
		return fmt.Errorf("%w: %v", engine.ErrInvalid, err)
	}
	spec.OOMScoreAdj = cfg.OOMScoreAdj
	if len(cfg.LogOptions) > 0 {
		size, files, err := procopts.LogLimits(cfg.LogOptions)
		if err != nil {
			return fmt.Errorf("%w: %v", engine.ErrInvalid, err)
		}
		spec.LogMaxSize, spec.LogMaxFiles, spec.LogOptions = size, files, cfg.LogOptions
	}
	return nil
}
