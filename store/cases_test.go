package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"helpdeskd/cases"
)

// columnExceptions are the columns not named after their field in
// snake case.
var columnExceptions = map[string]string{"Foreign": "foreign_flag", "LastCustomerMsgID": "last_customer_msgid"}

func snake(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// TestCaseFieldsCoverEveryField checks the field table against
// cases.Case itself: each field has exactly one column, named after it,
// so a field added to cases.Case without a column fails here.
func TestCaseFieldsCoverEveryField(t *testing.T) {
	var c cases.Case
	v := reflect.ValueOf(&c).Elem()
	byAddr := map[uintptr]string{}
	for i := range v.NumField() {
		byAddr[v.Field(i).Addr().Pointer()] = v.Type().Field(i).Name
	}
	mapped := map[string]string{}
	cols := map[string]bool{}
	for _, f := range caseFields {
		name, ok := byAddr[reflect.ValueOf(f.ptr(&c)).Pointer()]
		if !ok {
			t.Errorf("column %s points at no field of cases.Case", f.col)
			continue
		}
		if prev, dup := mapped[name]; dup {
			t.Errorf("field %s has two columns, %s and %s", name, prev, f.col)
		}
		mapped[name] = f.col
		if cols[f.col] {
			t.Errorf("column %s appears twice", f.col)
		}
		cols[f.col] = true
		want := snake(name)
		if e, ok := columnExceptions[name]; ok {
			want = e
		}
		if f.col != want {
			t.Errorf("field %s is stored in column %s, want %s", name, f.col, want)
		}
		// Every field type has a value and a scan target.
		f.value(&c)
		f.target(&c)
	}
	for i := range v.NumField() {
		if name := v.Type().Field(i).Name; mapped[name] == "" {
			t.Errorf("field cases.Case.%s has no column in caseFields", name)
		}
	}
	if caseFields[0].col != "number" {
		t.Errorf("caseFields[0] is %s, want the key number", caseFields[0].col)
	}
}

// distinctCase gives every field of a case its own non-zero value (by
// reflection, so new fields are included); among the bool fields only
// the one at index only is true (-1: all of them).
func distinctCase(t *testing.T, only int) *cases.Case {
	t.Helper()
	var c cases.Case
	v := reflect.ValueOf(&c).Elem()
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	timeType := reflect.TypeOf(time.Time{})
	for i := range v.NumField() {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		switch {
		case f.Type() == timeType:
			f.Set(reflect.ValueOf(base.Add(time.Duration(i) * time.Hour)))
		case f.Kind() == reflect.String:
			f.SetString(fmt.Sprintf("%s-%d", strings.ToLower(name), i))
		case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
			f.SetInt(int64(100 + i))
		case f.Kind() == reflect.Bool:
			f.SetBool(only == -1 || only == i)
		case f.Type() == reflect.TypeOf([]string(nil)):
			f.Set(reflect.ValueOf([]string{fmt.Sprintf("root-%d@acme.test", i), fmt.Sprintf("next-%d@acme.test", i)}))
		default:
			t.Fatalf("distinctCase: no value for field %s of type %s", name, f.Type())
		}
	}
	return &c
}

// TestCaseRoundTrip stores a case whose every field is distinct and
// non-zero, reads it back, updates every field and reads it again.
// Bool fields are checked one at a time, so that two swapped bools show.
func TestCaseRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var bools []int
	ct := reflect.TypeOf(cases.Case{})
	for i := range ct.NumField() {
		if ct.Field(i).Type.Kind() == reflect.Bool {
			bools = append(bools, i)
		}
	}
	for _, only := range append([]int{-1}, bools...) {
		name := "all bools"
		if only >= 0 {
			name = ct.Field(only).Name
		}
		t.Run(name, func(t *testing.T) {
			var linked cases.Case
			c := distinctCase(t, only)
			err := db.Tx(ctx, func(tx *Txn) error {
				// linked_case references a stored case.
				linked = cases.Case{Subject: "linked", Status: cases.StatusOpen, Priority: "normal", OpenedAt: c.OpenedAt}
				if err := tx.InsertCase(&linked); err != nil {
					return err
				}
				c.LinkedCase = linked.Number
				return tx.InsertCase(c)
			})
			if err != nil {
				t.Fatal(err)
			}
			check := func(want *cases.Case) {
				t.Helper()
				var got *cases.Case
				if err := db.Read(ctx, func(tx *Txn) (err error) { got, err = tx.Case(want.Number); return err }); err != nil {
					t.Fatal(err)
				}
				wv, gv := reflect.ValueOf(want).Elem(), reflect.ValueOf(got).Elem()
				for i := range wv.NumField() {
					if !reflect.DeepEqual(wv.Field(i).Interface(), gv.Field(i).Interface()) {
						t.Errorf("%s: stored %v, read back %v", wv.Type().Field(i).Name, wv.Field(i).Interface(), gv.Field(i).Interface())
					}
				}
			}
			check(c)
			// Update: every field changes to another distinct value.
			u := distinctCase(t, only)
			uv := reflect.ValueOf(u).Elem()
			for i := range uv.NumField() {
				f := uv.Field(i)
				switch f.Kind() {
				case reflect.String:
					f.SetString(f.String() + "-new")
				case reflect.Int:
					f.SetInt(f.Int() + 1000)
				case reflect.Slice:
					f.Set(reflect.ValueOf([]string{fmt.Sprintf("new-%d@acme.test", i)}))
				case reflect.Struct:
					f.Set(reflect.ValueOf(f.Interface().(time.Time).Add(24 * time.Hour)))
				}
			}
			u.Number, u.LinkedCase = c.Number, linked.Number
			if err := db.Tx(ctx, func(tx *Txn) error { return tx.UpdateCase(u) }); err != nil {
				t.Fatal(err)
			}
			check(u)
		})
	}
}

// TestCaseZeroValues: zero times, no link and no thread ids read back as
// zero values, and an empty kind reads as a fault.
func TestCaseZeroValues(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	opened := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := &cases.Case{Subject: "s", Status: cases.StatusOpen, Priority: "normal", OpenedAt: opened}
	var got *cases.Case
	err = db.Tx(ctx, func(tx *Txn) error {
		if err := tx.InsertCase(c); err != nil {
			return err
		}
		got, err = tx.Case(c.Number)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := *c
	want.Kind = cases.KindFault
	want.ThreadIDs = []string{} // stored as [], as before
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", *got, want)
	}
}
