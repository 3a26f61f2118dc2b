package clientcache_test

import (
	"context"
	"fmt"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/app/clientcache"
)

func Example() {
	ctx := context.Background()
	store := memory.New(memory.Config{}) // on Redis: standalone.New, sentinel.New
	defer store.Close()

	// One ClientCache per process and store, whatever the number of sites.
	cc, err := clientcache.New(store, clientcache.Config{MaxEntries: 512})
	if err != nil {
		panic(err)
	}
	if err := cc.Start(ctx); err != nil { // registers with the store's tracking
		panic(err)
	}
	defer cc.Stop(ctx)

	site, _ := cc.Site("site1.local")
	_ = site.SetValue(ctx, "settings", map[string]string{"theme": "dark"})
	for range 3 {
		s, _ := clientcache.GetValue[map[string]string](ctx, site, "settings")
		fmt.Println(s["theme"])
	}
	st := cc.Statistics()
	fmt.Printf("hits=%d misses=%d used=%d/%d healthy=%v\n", st.Hits, st.Misses, st.Used, st.Capacity, st.Healthy)
	// Output:
	// dark
	// dark
	// dark
	// hits=3 misses=0 used=1/512 healthy=true
}

// Several sites share one ClientCache: one budget, one tracking connection,
// keys kept apart by site.
func ExampleClientCache_Site() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()
	cc, _ := clientcache.New(store, clientcache.Config{MaxBytes: 64 << 20})
	_ = cc.Start(ctx)
	defer cc.Stop(ctx)

	for _, name := range []string{"site1.local", "site2.local"} {
		site, _ := cc.Site(name)
		_ = site.SetValue(ctx, "home_page", "/"+name)
	}
	// A write through the plain Cache of site2 (here: its Site's Cache, on
	// the same store) is seen at once.
	site2, _ := cc.Site("site2.local")
	_ = site2.Cache().SetValue(ctx, "home_page", "/welcome")

	site1, _ := cc.Site("site1.local")
	v1, _ := clientcache.GetValue[string](ctx, site1, "home_page")
	v2, _ := clientcache.GetValue[string](ctx, site2, "home_page")
	fmt.Println(v1, v2)
	// Output:
	// /site1.local /welcome
}

func ExampleGetDoc() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()
	cc, _ := clientcache.New(store, clientcache.Config{})
	_ = cc.Start(ctx)
	defer cc.Stop(ctx)
	site, _ := cc.Site("site1.local")

	type Doc struct{ Doctype, Name string }
	load := func(_ context.Context, doctype, name string) (Doc, error) {
		fmt.Println("loading", doctype, name)
		return Doc{doctype, name}, nil
	}
	d, _ := clientcache.GetDoc(ctx, site, "System Settings", "", load)
	d, _ = clientcache.GetDoc(ctx, site, "System Settings", "", load)
	fmt.Println(d.Name, clientcache.DocKey("System Settings", d.Name))
	// Output:
	// loading System Settings System Settings
	// System Settings document_cache::System Settings::System Settings
}
