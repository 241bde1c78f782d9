package memory_test

import (
	"testing"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/storetest"
)

func TestTicketsConformance(t *testing.T) {
	storetest.RunTickets(t, func(t *testing.T) store.Store { return memory.New(nil) })
}
