package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"helpdeskd/cases"
)

// changeField gives field i of c another value of its kind.
func changeField(t *testing.T, c *cases.Case, i int, linked int64) {
	t.Helper()
	f := reflect.ValueOf(c).Elem().Field(i)
	if reflect.TypeOf(*c).Field(i).Name == "LinkedCase" {
		f.SetInt(linked) // it references a stored case
		return
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(f.String() + "-new")
	case reflect.Int, reflect.Int64:
		f.SetInt(f.Int() + 1000)
	case reflect.Bool:
		f.SetBool(!f.Bool())
	case reflect.Slice:
		f.Set(reflect.ValueOf([]string{fmt.Sprintf("new-%d@acme.test", i)}))
	case reflect.Struct:
		f.Set(reflect.ValueOf(f.Interface().(time.Time).Add(24 * time.Hour)))
	default:
		t.Fatalf("changeField: field %d of kind %s", i, f.Kind())
	}
}

// UpdateCase sets only the columns that changed since the transaction
// read or inserted the case, all of them when it saw neither or when
// more than partialUpdateCols changed, and none when nothing did; every
// way, the case reads back as written.
func TestUpdateCaseSetsWhatChanged(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	partialUpdates = textBudget{max: 64} // as the daemon starts
	t.Cleanup(func() { partialUpdates = textBudget{max: 64} })
	var mu sync.Mutex
	var updates []string
	SetPrepareHook(func(q string) {
		if strings.HasPrefix(q, "UPDATE cases") {
			mu.Lock()
			updates = append(updates, q)
			mu.Unlock()
		}
	})
	t.Cleanup(func() { SetPrepareHook(nil) })

	var linked, other cases.Case
	c := distinctCase(t, -1)
	err := db.Tx(ctx, func(tx *Txn) error {
		linked = cases.Case{Subject: "linked", Status: cases.StatusOpen, Priority: "normal", OpenedAt: c.OpenedAt}
		other = linked
		if err := tx.InsertCase(&linked); err != nil {
			return err
		}
		if err := tx.InsertCase(&other); err != nil {
			return err
		}
		c.LinkedCase = linked.Number
		return tx.InsertCase(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range caseArgs(c) {
		if v != nil && !reflect.TypeOf(v).Comparable() {
			t.Fatalf("caseArgs gives a %T, which UpdateCase cannot compare", v)
		}
	}
	check := func(want *cases.Case) {
		t.Helper()
		var got *cases.Case
		if err := db.Read(ctx, func(tx *Txn) (err error) { got, err = tx.Case(want.Number); return err }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("read back\n%+v\nwant\n%+v", *got, *want)
		}
	}
	// update runs fn's change to the case in one transaction, after
	// reading it there when read is set, and returns the UPDATE
	// statements it ran.
	update := func(read bool, fn func(c *cases.Case)) []string {
		t.Helper()
		updates = nil
		err := db.Tx(ctx, func(tx *Txn) error {
			if read {
				got, err := tx.Case(c.Number)
				if err != nil {
					return err
				}
				*c = *got
			}
			fn(c)
			return tx.UpdateCase(c)
		})
		if err != nil {
			t.Fatal(err)
		}
		check(c)
		return updates
	}
	links := []int64{other.Number, linked.Number}
	ct := reflect.TypeOf(*c)
	for i := range ct.NumField() {
		name := ct.Field(i).Name
		if name == "Number" {
			continue
		}
		got := update(true, func(c *cases.Case) { changeField(t, c, i, links[i%2]) })
		col := ""
		for _, f := range caseFields {
			if reflect.ValueOf(f.ptr(c)).Pointer() == reflect.ValueOf(c).Elem().Field(i).Addr().Pointer() {
				col = f.col
			}
		}
		if want := "UPDATE cases SET " + col + " = ? WHERE number = ?"; len(got) != 1 || got[0] != want {
			t.Errorf("%s changed: ran %q, want %q", name, got, want)
		}
	}
	if got := update(true, func(*cases.Case) {}); len(got) != 0 {
		t.Errorf("nothing changed: ran %q, want no UPDATE", got)
	}
	many := func(c *cases.Case) {
		for i := 1; i <= partialUpdateCols+1; i++ {
			changeField(t, c, i, linked.Number)
		}
	}
	if got := update(true, many); len(got) != 1 || got[0] != updateCaseSQL {
		t.Errorf("%d fields changed: ran %q, want every column set", partialUpdateCols+1, got)
	}
	if got := update(false, func(c *cases.Case) { c.RepliesSent++ }); len(got) != 1 || got[0] != updateCaseSQL {
		t.Errorf("a case the transaction did not read: ran %q, want every column set", got)
	}
	// Two updates in one transaction: the second compares with the
	// first, so a field changed and changed back is written back.
	orig := c.Subject
	updates = nil
	err = db.Tx(ctx, func(tx *Txn) error {
		if _, err := tx.Case(c.Number); err != nil {
			return err
		}
		c.Subject = "changed"
		if err := tx.UpdateCase(c); err != nil {
			return err
		}
		c.Subject = orig
		return tx.UpdateCase(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	check(c)
	if want := "UPDATE cases SET subject = ? WHERE number = ?"; len(updates) != 2 || updates[1] != want {
		t.Errorf("changed and changed back: ran %q, want the subject set twice", updates)
	}
	// Inserted and updated in one transaction, as a new case is.
	updates = nil
	n := &cases.Case{Subject: "new", Status: cases.StatusOpen, Priority: "normal", OpenedAt: c.OpenedAt}
	err = db.Tx(ctx, func(tx *Txn) error {
		if err := tx.InsertCase(n); err != nil {
			return err
		}
		n.RepliesSent, n.LastReplyAt = 1, c.OpenedAt.Add(time.Minute)
		return tx.UpdateCase(n)
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "UPDATE cases SET last_reply_at = ?, replies_sent = ? WHERE number = ?"; len(updates) != 1 || updates[0] != want {
		t.Errorf("a new case's reply: ran %q, want %q", updates, want)
	}
	n.Kind, n.ThreadIDs = cases.KindFault, []string{}
	check(n)

	// Beyond the budget of statement texts, a new set of columns is
	// written as a whole row; a set already named still is by name.
	partialUpdates = textBudget{max: 1}
	first := update(true, func(c *cases.Case) { c.Subject += "!" })
	second := update(true, func(c *cases.Case) { c.Region += "!" })
	again := update(true, func(c *cases.Case) { c.Subject += "!" })
	if len(first) != 1 || first[0] != "UPDATE cases SET subject = ? WHERE number = ?" ||
		len(second) != 1 || second[0] != updateCaseSQL || len(again) != 1 || again[0] != first[0] {
		t.Errorf("with room for one text: ran %q, %q, %q; want the subject by name, then every column, then the subject by name", first, second, again)
	}
}
