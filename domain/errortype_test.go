package domain_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/rediscache/rediscache/domain"
)

func TestErrorType(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("set: %w", domain.ErrRefused), "refused"},
		{fmt.Errorf("get: %w", domain.ErrUnavailable), "unavailable"},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), "deadline_exceeded"},
		{domain.ErrWrongType, "wrong_type"},
		{errors.New("something else"), "_OTHER"},
	} {
		if got := domain.ErrorType(c.err); got != c.want {
			t.Errorf("ErrorType(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
