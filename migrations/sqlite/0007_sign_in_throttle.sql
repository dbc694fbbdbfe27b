-- Failed sign-ins counted per source (the client's address) as well as per account, so that
-- one machine guessing passwords pauses sign-in for itself, not for the account's owner
-- signing in from elsewhere. user_id 0 counts a source's failures against any login (known
-- or not). Rows whose last failure is older than a day no longer count and are removed now
-- and then. The other dialect's migration of the same number does the same.

CREATE TABLE sign_in_throttle (
    source TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    last_failure TEXT NOT NULL,
    locked_until TEXT,
    PRIMARY KEY (source, user_id)
);
