package demo

// itClients is the clients file of the integration tests: the built-in dev client, which may also
// sign its webhooks with the tests' secret (the built-in dev clients have no webhook secret).
const itClients = `clients:
  acme:
    intake: [s3://` + IntakeBucket + `/acme/]
    delivery_buckets: [{bucket: ` + ClientBucket + `, endpoint: 127.0.0.1}]
    delivery_profiles: [dev]
    webhook_secrets: [it-hook]
`
