package memory_test

import (
	"testing"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/storetest"
)

func TestRetentionConformance(t *testing.T) {
	storetest.RunRetention(t, func(t *testing.T) store.Store { return memory.New(nil) })
}
