package memory

import "context"

// list returns the live list under key, nil when the key is missing, or a
// WRONGTYPE error.
func (t *tx) list(op, key string) (*listValue, error) {
	e := t.get(key)
	if e == nil {
		return nil, nil
	}
	l, ok := e.value.(*listValue)
	if !ok {
		return nil, errWrongType(op, key)
	}
	return l, nil
}

// LPush prepends values one by one (so the last ends up first), creating the
// list if needed, and returns the new length. No values returns the current
// length.
func (s *Store) LPush(ctx context.Context, key string, values ...string) (int64, error) {
	return s.push(ctx, "lpush", key, values, true)
}

// RPush appends values, creating the list if needed, and returns the new
// length. No values returns the current length.
func (s *Store) RPush(ctx context.Context, key string, values ...string) (int64, error) {
	return s.push(ctx, "rpush", key, values, false)
}

// push is LPush (head) or RPush.
func (s *Store) push(ctx context.Context, op, key string, values []string, head bool) (int64, error) {
	t, err := s.begin(ctx, op, key)
	if err != nil {
		return 0, err
	}
	defer t.end()
	l, err := t.list(op, key)
	if err != nil {
		return 0, err
	}
	if len(values) == 0 {
		if l == nil {
			return 0, nil
		}
		return int64(len(l.items)), nil
	}
	if l == nil {
		l = &listValue{}
		t.put(key, l)
	}
	if head {
		n := len(values)
		items := make([]string, n+len(l.items))
		for i, v := range values {
			items[n-1-i] = v
		}
		copy(items[n:], l.items)
		l.items = items
	} else {
		l.items = append(l.items, values...)
	}
	t.touch(key)
	return int64(len(l.items)), nil
}

// LPop removes and returns the head, or an error matching domain.ErrNotFound
// for a missing list. Removing the last element removes the key.
func (s *Store) LPop(ctx context.Context, key string) (string, error) {
	return s.pop(ctx, "lpop", key, true)
}

// RPop removes and returns the tail, or an error matching domain.ErrNotFound
// for a missing list. Removing the last element removes the key.
func (s *Store) RPop(ctx context.Context, key string) (string, error) {
	return s.pop(ctx, "rpop", key, false)
}

// pop implements LPop (head) and RPop.
func (s *Store) pop(ctx context.Context, op, key string, head bool) (string, error) {
	t, err := s.begin(ctx, op, key)
	if err != nil {
		return "", err
	}
	defer t.end()
	l, err := t.list(op, key)
	if err != nil {
		return "", err
	}
	if l == nil || len(l.items) == 0 {
		return "", errNotFound(op, key)
	}
	var v string
	if head {
		v = l.items[0]
		l.items[0] = ""
		l.items = l.items[1:]
	} else {
		last := len(l.items) - 1
		v = l.items[last]
		l.items[last] = ""
		l.items = l.items[:last]
	}
	if len(l.items) == 0 {
		t.del(key)
	}
	t.touch(key)
	return v, nil
}

// LLen returns the length of the list under key; 0 for a missing list.
func (s *Store) LLen(ctx context.Context, key string) (int64, error) {
	t, err := s.begin(ctx, "llen", key)
	if err != nil {
		return 0, err
	}
	defer t.end()
	l, err := t.list("llen", key)
	if err != nil || l == nil {
		return 0, err
	}
	return int64(len(l.items)), nil
}

// LRange returns the elements from start to stop, inclusive, with Redis'
// index rules: negative indexes count from the tail (-1 is the last), start
// is clamped to 0 and stop to the last element, and an empty range (start
// past stop or past the end) gives an empty non-nil slice, as does a missing
// list.
func (s *Store) LRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	t, err := s.begin(ctx, "lrange", key)
	if err != nil {
		return nil, err
	}
	defer t.end()
	l, err := t.list("lrange", key)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return []string{}, nil
	}
	lo, hi, ok := listRange(int64(len(l.items)), start, stop)
	if !ok {
		return []string{}, nil
	}
	out := make([]string, hi-lo+1)
	copy(out, l.items[lo:hi+1])
	return out, nil
}

// LTrim keeps only the elements from start to stop, inclusive, with the
// index rules of LRange; an empty range removes the key. Like Redis, it
// reports a change of an existing list even when nothing was removed.
func (s *Store) LTrim(ctx context.Context, key string, start, stop int64) error {
	t, err := s.begin(ctx, "ltrim", key)
	if err != nil {
		return err
	}
	defer t.end()
	l, err := t.list("ltrim", key)
	if err != nil || l == nil {
		return err
	}
	lo, hi, ok := listRange(int64(len(l.items)), start, stop)
	if ok {
		items := make([]string, hi-lo+1)
		copy(items, l.items[lo:hi+1])
		l.items = items
	} else {
		l.items = nil
	}
	if len(l.items) == 0 {
		t.del(key)
	}
	t.touch(key)
	return nil
}

// listRange resolves start and stop on a list of length n as Redis' LRANGE
// and LTRIM do, returning the inclusive bounds, or ok false for an empty
// range.
func listRange(n, start, stop int64) (lo, hi int64, ok bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}
