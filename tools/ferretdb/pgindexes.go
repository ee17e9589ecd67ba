package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"log"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// FerretDB 1.x on PostgreSQL filters with `_jsonb->'field' @> value`, which its own btree
// indexes on `(_jsonb->'field')` cannot serve: every find, even by _id, reads the whole
// table, so each query costs as much as the collection is large. Herald's tests and bench
// add a GIN companion on each top-level field of each, which
// PostgreSQL does use for `@>` once plans are made with the actual parameters, and combines
// (BitmapAnd) when a query filters on several. Fields named `…At` are skipped: Herald only
// sorts and ranges on its times, and `@>` serves neither. FerretDB does not push down
// dotted fields (`subject.id`) by default, so those get none either.
// Once an index's companions exist, the index itself is dropped unless it is unique: FerretDB
// 1.24 sorts only by record id (`$natural`) and ranges in Go, so its non-unique btrees serve no
// read and only cost each write its entries (a third to a half of PostgreSQL's CPU per write,
// bench/results/ferretdb-btree-2026-12-06T1646Z.md). FerretDB keeps them in its own metadata,
// so listIndexes still lists them and Herald's createIndexes finds them made. A unique index
// stays: it is what refuses a duplicate.
// (Real MongoDB, which production runs, needs none of this.)

var indexedField = regexp.MustCompile(`\(\(_jsonb -> '([^']+)'::text\)\)`)

func tunePostgres(ctx context.Context, url string) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		log.Printf("postgres tuning skipped: %v", err)
		return
	}
	defer conn.Close(ctx)
	// FerretDB's statements take the field name as a parameter; a generic plan cannot match
	// it to an expression index, so every plan is made with the values at hand.
	db := pgx.Identifier{conn.Config().Database}.Sanitize()
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+db+" SET plan_cache_mode = force_custom_plan"); err != nil {
		log.Printf("postgres tuning skipped: %v", err)
	}
}

// companionIndexes adds the GIN companions as collections and indexes appear, until ctx ends.
func companionIndexes(ctx context.Context, url string) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		log.Printf("companion indexes skipped: %v", err)
		return
	}
	defer conn.Close(context.Background())
	for {
		if err := addCompanions(ctx, conn); err != nil && ctx.Err() == nil {
			log.Printf("companion indexes: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func addCompanions(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		return err
	}
	type target struct{ schema, table, field, name string }
	existing := map[string]bool{}
	var wanted []target
	var unused []pgx.Identifier
	for rows.Next() {
		var schema, table, name, def string
		if err := rows.Scan(&schema, &table, &name, &def); err != nil {
			return err
		}
		existing[name] = true
		if !strings.Contains(def, "USING btree") {
			continue
		}
		// FerretDB's own (on its `_jsonb` column) only: the database may hold other tables.
		if !strings.HasPrefix(def, "CREATE UNIQUE INDEX") && indexedField.MatchString(def) {
			unused = append(unused, pgx.Identifier{schema, name})
		}
		for _, m := range indexedField.FindAllStringSubmatch(def, -1) {
			if strings.HasSuffix(m[1], "At") {
				continue
			}
			sum := sha1.Sum([]byte(schema + "." + table + "." + m[1]))
			wanted = append(wanted, target{schema, table, m[1], "herald_gin_" + hex.EncodeToString(sum[:8])})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range wanted {
		if existing[t.name] {
			continue
		}
		existing[t.name] = true
		sql := "CREATE INDEX IF NOT EXISTS " + pgx.Identifier{t.name}.Sanitize() + " ON " + pgx.Identifier{t.schema, t.table}.Sanitize() +
			" USING gin ((_jsonb -> " + quoteLiteral(t.field) + ") jsonb_path_ops)"
		if _, err := conn.Exec(ctx, sql); err != nil {
			return err
		}
	}
	// After the companions: a failure above leaves the btree, which the next pass reads again.
	for _, index := range unused {
		// CONCURRENTLY: writes to the table go on while it is dropped.
		if _, err := conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+index.Sanitize()); err != nil {
			return err
		}
	}
	return nil
}

func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}
