package domain_test

import (
	"testing"

	"github.com/rediscache/rediscache/domain"
)

func TestLeaseTwoParents(t *testing.T) {
	conn, slot := domain.NewLease(), domain.NewLease()
	v := domain.NewLease(conn, slot)
	if !v.Valid() || !conn.Covers(v) || !slot.Covers(v) || v.Covers(conn) {
		t.Fatal("a lease under two parents is valid and covered by both")
	}
	other := domain.NewLease(conn, domain.NewLease())
	slot.Revoke()
	if v.Valid() || !other.Valid() {
		t.Fatal("revoking one parent revokes only the leases under it")
	}
	if (*domain.Lease)(nil).Valid() || domain.NewLease(nil).Covers(nil) {
		t.Fatal("nil leases are never valid, nor covered")
	}
	if !(*domain.Lease)(nil).Covers(v) {
		t.Fatal("a nil scope covers everything")
	}
}

func TestAnyOf(t *testing.T) {
	root := domain.NewLease()
	a, b, c := domain.NewLease(root), domain.NewLease(root), domain.NewLease(root)
	va, vb, vc := domain.NewLease(domain.NewLease(), a), domain.NewLease(b), domain.NewLease(c)
	scope := domain.AnyOf(a, nil, b)
	if !scope.Covers(va) || !scope.Covers(vb) || scope.Covers(vc) || scope.Covers(root) {
		t.Fatal("AnyOf covers what its members cover, nothing else")
	}
	if scope.Valid() {
		t.Fatal("a scope is never a valid lease")
	}
	if !domain.AnyOf(root).Covers(vc) {
		t.Fatal("a member's descendants are covered")
	}
}
