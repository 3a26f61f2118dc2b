package app

import (
	"fmt"

	"github.com/rediscache/rediscache/domain"
)

var (
	errNilGenerator = fmt.Errorf("%w: nil generator", domain.ErrInvalidArgument)
	errNilValue     = fmt.Errorf("%w: nil value (use DeleteValue to remove a key)", domain.ErrInvalidArgument)
	errEmptyField   = fmt.Errorf("%w: empty hash field", domain.ErrInvalidArgument)
)
