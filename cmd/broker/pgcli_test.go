package main_test

import (
	"context"
	"testing"

	"github.com/diarybroker/broker/pkg/store/postgres"
)

// pgCLI makes a throw-away database, migrates it with `broker migrate up`
// and creates tenant msk («Дневник Москвы», with tenantFlags added to
// `tenants create` after the operator's name and address, which they may
// override). It returns the database's URL and a runner of operator
// commands against it that answers stdout and stderr together and the exit
// code.
func pgCLI(t *testing.T, tenantFlags ...string) (string, func(args ...string) (string, int)) {
	t.Helper()
	db, env := operatorDB(t)
	run := func(args ...string) (string, int) {
		t.Helper()
		out, errOut, code := broker(t, env, "", args...)
		return out + errOut, code
	}
	if out, code := run("migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s", out)
	}
	create := append([]string{"tenants", "create", "msk", "--name", "Дневник Москвы",
		"--operator", "ГБУ «Оператор»", "--operator-address", "Москва, ул. Тверская, 1"}, tenantFlags...)
	if out, code := run(create...); code != 0 {
		t.Fatalf("tenants create: %s", out)
	}
	return db, run
}

// pgStore connects to the database at db and answers the PostgreSQL store
// on it; the connections are closed when the test ends.
func pgStore(t *testing.T, db string) *postgres.Store {
	t.Helper()
	pool, err := postgres.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return postgres.New(pool, nil)
}
