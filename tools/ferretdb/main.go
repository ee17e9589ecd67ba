// Command herald-ferretdb runs FerretDB embedded as a library. FerretDB's own
// cmd/ferretdb panics when built with `go install`, so Herald's dev and test
// stacks build this small wrapper instead. Production runs real MongoDB.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "", "SQLite data directory (SQLite backend)")
	pg := flag.String("postgresql", "", "PostgreSQL URL (PostgreSQL backend instead of SQLite)")
	flag.Parse()

	cfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		Handler:  "sqlite",
	}
	if *pg != "" {
		cfg.Handler, cfg.PostgreSQLURL = "postgresql", withPoolLimit(*pg)
	} else {
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			log.Fatal(err)
		}
		cfg.SQLiteURL = "file:" + *dir + "/"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *pg != "" {
		tunePostgres(ctx, *pg) // before FerretDB opens its connections
		go companionIndexes(ctx, *pg)
	} else {
		go sqliteIDIndexes(ctx, *dir)
	}
	f, err := ferretdb.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("FerretDB listening on %s", *listen)
	if err := f.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

// withPoolLimit caps FerretDB's connections at 30 unless the URL says otherwise. FerretDB
// opens up to 50; beside the production-shaped Temporal's pools that passed PostgreSQL's
// default max_connections (100) under `make bench`, and PostgreSQL refused clients.
func withPoolLimit(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		log.Fatal(err)
	}
	q := u.Query()
	if !q.Has("pool_max_conns") {
		q.Set("pool_max_conns", "30")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
