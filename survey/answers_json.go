package survey

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// decodeAnswers reads a JSON object of string values, as the store keeps the
// answers of one response (SQLite's json_patch and json_group_object,
// PostgreSQL's json_object_agg; migration 0210), into m. Keys and values without escapes are substrings of
// js (no copy: the response's answers share one allocation); an escaped
// string is unquoted by encoding/json. A repeated key keeps its last value,
// as encoding/json does.
func decodeAnswers(js string, m map[string]string) error {
	i := skipSpace(js, 0)
	if i >= len(js) || js[i] != '{' {
		return errors.New("not a JSON object")
	}
	i = skipSpace(js, i+1)
	if i < len(js) && js[i] == '}' {
		return trailing(js, i+1)
	}
	for {
		key, next, err := jsonString(js, i)
		if err != nil {
			return err
		}
		i = skipSpace(js, next)
		if i >= len(js) || js[i] != ':' {
			return fmt.Errorf("want ':' at byte %d", i)
		}
		i = skipSpace(js, i+1)
		val, next, err := jsonString(js, i)
		if err != nil {
			return fmt.Errorf("answer %q: %w", key, err)
		}
		m[key] = val
		i = skipSpace(js, next)
		if i >= len(js) {
			return errors.New("unterminated JSON object")
		}
		switch js[i] {
		case ',':
			i = skipSpace(js, i+1)
		case '}':
			return trailing(js, i+1)
		default:
			return fmt.Errorf("want ',' or '}' at byte %d", i)
		}
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

func trailing(js string, i int) error {
	if i = skipSpace(js, i); i != len(js) {
		return fmt.Errorf("data after the JSON object at byte %d", i)
	}
	return nil
}

// jsonString reads the JSON string starting at js[i] and returns it and the
// index after its closing quote.
func jsonString(js string, i int) (string, int, error) {
	if i >= len(js) || js[i] != '"' {
		if i < len(js) && js[i] == 'n' && strings.HasPrefix(js[i:], "null") {
			return "", 0, errors.New("null value")
		}
		return "", 0, fmt.Errorf("want a string at byte %d", i)
	}
	escaped := false
	for j := i + 1; j < len(js); j++ {
		switch c := js[j]; {
		case c == '"':
			if !escaped {
				return js[i+1 : j], j + 1, nil
			}
			var s string
			if err := json.Unmarshal([]byte(js[i:j+1]), &s); err != nil {
				return "", 0, fmt.Errorf("string at byte %d: %w", i, err)
			}
			return s, j + 1, nil
		case c == '\\':
			escaped = true
			j++ // the escaped byte cannot end the string
		case c < 0x20:
			return "", 0, fmt.Errorf("control character in a string at byte %d", j)
		}
	}
	return "", 0, fmt.Errorf("unterminated string at byte %d", i)
}
