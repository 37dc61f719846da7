/// The commented configuration `dkimctl config init` writes. It must load as is
/// (a test checks it), so everything that needs a file or a server is commented out.
enum ConfigurationExample {
    static let text = """
        # dkimctl configuration: what 'dkimctl rotate' and 'dkimctl scheduler' manage.
        # Check it with 'dkimctl config check'; preview with 'dkimctl rotate --dry-run'.
        # Unknown keys and wrong types are errors. Durations: 90s, 15m, 12h, 30d, 2w.

        # Policy for every slot; any of these can be overridden in a slot.
        defaults:
          owner: mail-team@example.org   # who answers for the keys (default: 'dkimctl init --owner')
          algorithm: rsa                 # rsa or ed25519
          bits: 2048                     # RSA: 2048 (CCCS ITSP.40.065); 1024 only where a provider needs it
          rotation: 182d                 # a key's rotation is due this long after activation (semiannual)
          lead: 14d                      # the successor is created this long before rotation is due
          grace: 7d                      # a retired key's record stays published this long, then it is revoked
          ttl: 1800                      # TTL while a record is new (CCCS: 1800)
          stableTTL: 86400               # TTL once the key has been active for the grace period (CCCS: 86400)
          selectorPattern: "{provider}-{usage}-{yyyymmdd}"
          revocation: empty-p            # empty-p (publish p= empty) or delete (remove the record)
          reveal: false                  # true: move revoked private keys to <state-dir>/revealed/ instead of destroying them
          propagation: 0s                # shortest wait between the first full DNS pass and activation
          attentionAfter: 2d             # a key not visible in DNS this long after publishing needs attention (exit 3)
          # revokeAfterUnused: 3d      # off by default: revoke a retired key only once DMARC reports
                                         # ('dkimctl reports import') have not shown it signing for this long

        # What is kept of DMARC aggregate reports ('dkimctl reports import').
        # reports:
        #   retention: 400d              # sums and reports of days older than this are removed at import (at least 7d)

        # Slots can also live in the registry ('dkimctl slot add|set|remove|list|import'), for fleets of
        # many domains; they take defaults: as above. Their domains use the publisher and deploy hook of
        # the domain below when it is listed, else these. A slot listed below wins over the registry's.
        # registrySlots:
        #   publisher: { type: rfc2136, server: "192.0.2.53:53",
        #                tsig: { name: dkimctl, algorithm: hmac-sha256, secretFile: /etc/dkimctl/tsig.key } }
        #   deploy: "systemctl reload opendkim"

        # How DNS is asked (command-line options override these).
        # dns:
        #   nameservers: ["192.0.2.53"]  # ask these instead of the zone's discovered authoritative servers
        #   resolvers: ["127.0.0.1"]     # used to discover zones and nameservers (default: /etc/resolv.conf)
        #   timeout: 2
        #   retries: 2

        # Templates of your own, overriding the embedded ones by name ('dkimctl templates list').
        # templates: /etc/dkimctl/templates

        # Profiles for custom providers (used as provider custom:NAME); 'dkimctl providers' lists them all.
        # providers:
        #   partner-relay:
        #     name: Partner relay
        #     algorithms: [rsa]
        #     bits: [2048]
        #     maxSelectorLength: 63

        domains:
          example.org:
            # How records reach DNS. One of:
            #   { type: manual }   (default) records are written to <state-dir>/outbox/example.org/ for you to publish
            #   { type: zonefile, path: /etc/bind/dkim/example.org.zone, reload: "rndc reload example.org" }
            #   { type: command, command: "/usr/local/bin/dkim-dns-hook" }   (DKIM_ACTION, DKIM_NAME, DKIM_VALUE, …)
            #   { type: rfc2136, server: "192.0.2.53:53", zone: example.org,
            #     tsig: { name: dkimctl, algorithm: hmac-sha256, secretFile: /etc/dkimctl/tsig.key } }
            publisher: { type: manual }
            # Run after a key becomes active, is retired by hand, or is revoked (DKIM_PRIVATE_KEY_PATH is set).
            # deploy: "systemctl reload opendkim"
            slots:
              - { provider: mailgun, usage: notifications }
              - { provider: self-hosted, usage: support, owner: helpdesk@example.org }

        """
}
