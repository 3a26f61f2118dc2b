package tests

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/rediscache/rediscache/ports"
)

// TestGoDocListsMethods runs go doc on each Redis store type a user imports
// and checks that it lists every method of the ports the type implements,
// and its own: a new user reads go doc, not the internal package the code
// lives in.
func TestGoDocListsMethods(t *testing.T) {
	methodsOf := func(ifaces ...any) []string {
		var names []string
		for _, i := range ifaces {
			typ := reflect.TypeOf(i).Elem()
			for m := range typ.Methods() {
				names = append(names, m.Name)
			}
		}
		return names
	}
	store := append(methodsOf((*ports.Store)(nil), (*ports.Pinger)(nil), (*ports.Tracker)(nil), (*ports.Broadcast)(nil)),
		"Close", "Client", "TrackingID")
	cases := []struct {
		pkg, typ string
		methods  []string
	}{
		{"./adapters/standalone", "Store", store},
		{"./adapters/sentinel", "Store", store},
	}
	root := moduleRoot(t)
	for _, c := range cases {
		cmd := exec.Command("go", "doc", c.pkg, c.typ)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go doc %s %s: %v\n%s", c.pkg, c.typ, err, out)
		}
		recv := "func (" + strings.ToLower(c.typ[:1]) + " *" + c.typ + ") "
		for _, m := range c.methods {
			if !strings.Contains(string(out), recv+m+"(") {
				t.Errorf("go doc %s %s does not list %s", c.pkg, c.typ, m)
			}
		}
	}
}
