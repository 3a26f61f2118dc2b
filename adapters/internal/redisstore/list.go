package redisstore

import "context"

// LPush prepends values (LPUSH) and returns the new length. No values sends
// LLEN instead and returns the unchanged length.
func (s *Store) LPush(ctx context.Context, key string, values ...string) (int64, error) {
	if err := s.beginKey(ctx, "lpush", key); err != nil {
		return 0, err
	}
	defer s.wrote(key)
	if len(values) == 0 {
		return s.llen(ctx, "lpush", key)
	}
	n, err := s.client().LPush(ctx, key, toAny(values)...).Result()
	if err != nil {
		return 0, s.fail(ctx, "lpush", key, err)
	}
	return n, nil
}

// RPush appends values (RPUSH) and returns the new length. No values sends
// LLEN instead and returns the unchanged length.
func (s *Store) RPush(ctx context.Context, key string, values ...string) (int64, error) {
	if err := s.beginKey(ctx, "rpush", key); err != nil {
		return 0, err
	}
	defer s.wrote(key)
	if len(values) == 0 {
		return s.llen(ctx, "rpush", key)
	}
	n, err := s.client().RPush(ctx, key, toAny(values)...).Result()
	if err != nil {
		return 0, s.fail(ctx, "rpush", key, err)
	}
	return n, nil
}

// LPop removes and returns the head (LPOP), or an error matching
// domain.ErrNotFound.
func (s *Store) LPop(ctx context.Context, key string) (string, error) {
	if err := s.beginKey(ctx, "lpop", key); err != nil {
		return "", err
	}
	defer s.wrote(key)
	v, err := s.client().LPop(ctx, key).Result()
	if err != nil {
		return "", s.fail(ctx, "lpop", key, err)
	}
	return v, nil
}

// RPop removes and returns the tail (RPOP), or an error matching
// domain.ErrNotFound.
func (s *Store) RPop(ctx context.Context, key string) (string, error) {
	if err := s.beginKey(ctx, "rpop", key); err != nil {
		return "", err
	}
	defer s.wrote(key)
	v, err := s.client().RPop(ctx, key).Result()
	if err != nil {
		return "", s.fail(ctx, "rpop", key, err)
	}
	return v, nil
}

// LLen returns the length of the list (LLEN); 0 for a missing list.
func (s *Store) LLen(ctx context.Context, key string) (int64, error) {
	if err := s.beginKey(ctx, "llen", key); err != nil {
		return 0, err
	}
	return s.llen(ctx, "llen", key)
}

// LRange returns the elements from start to stop, inclusive (LRANGE).
func (s *Store) LRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	if err := s.beginKey(ctx, "lrange", key); err != nil {
		return nil, err
	}
	vs, err := s.client().LRange(ctx, key, start, stop).Result()
	if err != nil {
		return nil, s.fail(ctx, "lrange", key, err)
	}
	return nonNil(vs), nil
}

// LTrim keeps only the elements from start to stop, inclusive (LTRIM).
func (s *Store) LTrim(ctx context.Context, key string, start, stop int64) error {
	if err := s.beginKey(ctx, "ltrim", key); err != nil {
		return err
	}
	defer s.wrote(key)
	return s.fail(ctx, "ltrim", key, s.client().LTrim(ctx, key, start, stop).Err())
}

// llen sends LLEN; op names the caller in errors.
func (s *Store) llen(ctx context.Context, op, key string) (int64, error) {
	n, err := s.client().LLen(ctx, key).Result()
	if err != nil {
		return 0, s.fail(ctx, op, key, err)
	}
	return n, nil
}
