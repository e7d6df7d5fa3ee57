package layout

// SessionPrefix holds the browser sessions the gateway opened.
const SessionPrefix = "sessions/"

// SessionKey — `sessions/<hash>.json`: one signed-in browser. The key is a hash of the session's
// cookie, never the cookie, so that reading the store does not let anyone sign in.
func SessionKey(hash string) string { return SessionPrefix + hash + ".json" }
