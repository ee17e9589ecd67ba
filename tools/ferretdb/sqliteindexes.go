package main

import (
	"context"
	"database/sql"
	"log"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite"
)

// FerretDB 1.24 on SQLite pushes a filter on `_id` down as `_ferretdb_sjson->'$._id' = ?`,
// but indexes `_id` as `_ferretdb_sjson->"_id"`: SQLite matches index expressions by their
// text, so the index is never used and every read or write by `_id` reads the whole table
// (EXPLAIN QUERY PLAN: SCAN instead of SEARCH ... USING INDEX). Herald reads almost only by
// `_id`, so each event cost as much as the audit is large. This adds, for each collection's
// table as it appears, a unique index on the very expression the pushdown uses.

func sqliteIDIndexes(ctx context.Context, dir string) {
	for {
		files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		if err != nil {
			log.Printf("sqlite _id indexes: %v", err)
		}
		for _, file := range files {
			if err := addIDIndexes(ctx, file); err != nil && ctx.Err() == nil {
				log.Printf("sqlite _id indexes on %s: %v", file, err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func addIDIndexes(ctx context.Context, file string) error {
	// FerretDB writes to the same file: wait for its locks rather than fail.
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT t.name FROM sqlite_master t
		WHERE t.type = 'table' AND t.name IN (SELECT table_name FROM _ferretdb_collections)
		AND NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = t.name || '_herald_id')`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil // FerretDB has not created its metadata yet
		}
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, table := range tables {
		stmt := `CREATE UNIQUE INDEX IF NOT EXISTS ` + quoteIdent(table+"_herald_id") + ` ON ` + quoteIdent(table) + ` (_ferretdb_sjson->'$._id')`
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
