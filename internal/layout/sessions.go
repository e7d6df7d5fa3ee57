package layout

// SessionPrefix holds the browser sessions the gateway opened.
const SessionPrefix = "sessions/"

// SessionID names a session by the day it expires (YYYY-MM-DD) and a hash of its cookie.
func SessionID(day, hash string) string { return day + "/" + hash }

// SessionKey — `sessions/<expiry day>/<hash>.json`: one signed-in browser. The key holds a hash
// of the session's cookie, never the cookie, so that reading the store does not let anyone sign
// in; the day lets expired sessions be deleted a whole day at a time (SessionDayPrefix).
func SessionKey(id string) string { return SessionPrefix + id + ".json" }

// SessionDayPrefix lists the sessions that expire on day.
func SessionDayPrefix(day string) string { return SessionPrefix + day + "/" }
