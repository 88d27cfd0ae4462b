package store_test
import "testing"
func TestZZSeed(t *testing.T) { if err := seedReportDB("/tmp/rb/remit.db"); err != nil { t.Fatal(err) } }
