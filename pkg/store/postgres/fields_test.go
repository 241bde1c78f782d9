package postgres_test

import (
	"testing"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/storetest"
)

func TestFieldsConformance(t *testing.T) {
	storetest.RunFields(t, func(t *testing.T) store.Store { return newStore(t) })
}
