// Command herald-ferretdb runs FerretDB embedded as a library. FerretDB's own
// cmd/ferretdb panics when built with `go install`, so Herald's dev and test
// stacks build this small wrapper instead. Production runs real MongoDB.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only when HERALD_FERRETDB_PPROF names an address
	"net/url"
	"os"
	"os/signal"
	"strings"
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
	pgURL := withoutLoopbackTLS(*pg)
	if *pg != "" {
		cfg.Handler, cfg.PostgreSQLURL = "postgresql", withPoolLimit(pgURL)
	} else {
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			log.Fatal(err)
		}
		cfg.SQLiteURL = "file:" + *dir + "/"
	}
	// Go's profiler, as the production-shaped Temporal server's TEMPORAL_PPROF_PORT: how
	// `make bench` finds where the store's CPU goes (`go tool pprof http://<addr>/debug/pprof/profile`).
	// Loopback only: the handlers have no authentication.
	if addr := os.Getenv("HERALD_FERRETDB_PPROF"); addr != "" {
		if host, _, err := net.SplitHostPort(addr); err != nil || !isLoopback(host) {
			log.Fatalf("HERALD_FERRETDB_PPROF must be a loopback host:port, not %q", addr)
		}
		go func() { log.Print(http.ListenAndServe(addr, nil)) }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *pg != "" {
		tunePostgres(ctx, pgURL) // before FerretDB opens its connections
		go companionIndexes(ctx, pgURL)
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
	return withDefault(raw, "pool_max_conns", "30")
}

// withoutLoopbackTLS reaches a PostgreSQL on loopback without TLS first unless the URL or
// PGSSLMODE says otherwise. pgx's default (`sslmode=prefer`) takes TLS whenever the server
// offers it, as Debian's does, and then both sides encrypt every statement of a connection
// that never leaves the machine; `allow` still takes TLS from a server that requires it.
func withoutLoopbackTLS(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		log.Fatal(err)
	}
	if !isLoopback(u.Hostname()) || os.Getenv("PGSSLMODE") != "" {
		return raw
	}
	return withDefault(raw, "sslmode", "allow")
}

func withDefault(raw, param, value string) string {
	u, err := url.Parse(raw)
	if err != nil {
		log.Fatal(err)
	}
	q := u.Query()
	if !q.Has(param) {
		q.Set(param, value)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
