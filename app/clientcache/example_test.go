package clientcache_test

import (
	"context"
	"fmt"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
)

func Example() {
	ctx := context.Background()
	store := memory.New(memory.Config{}) // on Redis: standalone.NewTracked
	defer store.Close()
	cache, _ := app.New(store, app.Config{Site: "site1.local"})

	cc, err := clientcache.New(cache, store, clientcache.Config{MaxEntries: 512})
	if err != nil {
		panic(err)
	}
	if err := cc.Start(ctx); err != nil { // subscribes to invalidations
		panic(err)
	}
	defer cc.Stop(ctx)

	_ = cc.SetValue(ctx, "settings", map[string]string{"theme": "dark"})
	for range 3 {
		s, _ := clientcache.GetValue[map[string]string](ctx, cc, "settings")
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

func ExampleGetDoc() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	defer store.Close()
	cache, _ := app.New(store, app.Config{Site: "site1.local"})
	cc, _ := clientcache.New(cache, store, clientcache.Config{})
	_ = cc.Start(ctx)
	defer cc.Stop(ctx)

	type Doc struct{ Doctype, Name string }
	load := func(_ context.Context, doctype, name string) (Doc, error) {
		fmt.Println("loading", doctype, name)
		return Doc{doctype, name}, nil
	}
	d, _ := clientcache.GetDoc(ctx, cc, "System Settings", "", load)
	d, _ = clientcache.GetDoc(ctx, cc, "System Settings", "", load)
	fmt.Println(d.Name, clientcache.DocKey("System Settings", d.Name))
	// Output:
	// loading System Settings System Settings
	// System Settings document_cache::System Settings::System Settings
}
