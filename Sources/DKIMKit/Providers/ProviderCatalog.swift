/// Every provider profile dkimctl knows: the built-in ones, plus those the
/// configuration describes for `custom:NAME` providers.
public struct ProviderCatalog: Sendable, Equatable {
    public private(set) var profiles: [ProviderProfile]

    /// The built-in profiles, plus `custom` ones (whose identifiers must start with `custom:`).
    public init(custom: [ProviderProfile] = []) {
        profiles = ProviderCatalog.builtIn + custom
    }

    /// The profile of `provider`; a `custom:NAME` the configuration does not describe gets the permissive one.
    public func profile(for provider: Provider) -> ProviderProfile {
        profiles.first { $0.provider == provider } ?? .permissive(provider)
    }

    static let rsa1024and2048 = [1024, 2048]

    /// What each built-in provider takes, from its own documentation (2026):
    /// - Mailgun: key import by API (`POST /v1/dkim/keys`, RSA 1024 or 2048, PEM); or
    ///   Automatic Sender Security, CNAMEs `pdk1`/`pdk2` into `dkim1.mailgun.com` (Mailgun rotates).
    /// - Amazon SES: BYODKIM (RSA 1024–2048, selector 1–63 of `[a-zA-Z0-9-]`); or Easy DKIM,
    ///   three CNAMEs `<token>._domainkey` → `<token>.dkim.amazonses.com`.
    /// - Google Workspace: Google generates the key (2048 recommended), TXT at `google._domainkey`.
    /// - Microsoft 365: CNAMEs `selector1`/`selector2` into the tenant's zone; Microsoft rotates.
    /// - Brevo: CNAMEs `brevo1`/`brevo2` into `dkim.brevo.com` (older accounts: TXT `mail`).
    /// - SendGrid: CNAMEs `s1`/`s2` into `sendgrid.net` (automated security), else a TXT it generates.
    /// - Postmark: a TXT it generates at `<date>pm._domainkey`.
    /// - Self-hosted: our own MTA signs; any key dkimctl generates.
    public static let builtIn: [ProviderProfile] = [
        ProviderProfile(
            provider: Provider(trusted: "mailgun"), displayName: "Mailgun",
            localKeys: .init(algorithms: [.rsa], rsaBits: rsa1024and2048, handoff: "handoff/mailgun"),
            managed: [
                .init(style: .cname, selectors: ["pdk1", "pdk2"], targetSuffixes: ["dkim1.mailgun.com"],
                      convention: "pdk1/pdk2 CNAMEs to <selector>._domainkey.<id>.dkim1.mailgun.com (Automatic Sender Security)"),
                .init(style: .txt, selectors: ["mx", "k1", "smtp"], convention: "a TXT key Mailgun generated"),
            ],
            notes: "bring your own key through the domain-keys API (PEM, RSA 1024 or 2048), then activate it at Mailgun once DNS proves it"),
        ProviderProfile(
            provider: Provider(trusted: "amazon-ses"), displayName: "Amazon SES",
            localKeys: .init(
                algorithms: [.rsa], rsaBits: rsa1024and2048, maximumSelectorLength: 63, singleLabelSelector: true,
                handoff: "handoff/amazon-ses"),
            managed: [
                .init(style: .cname, selectors: [], targetSuffixes: ["dkim.amazonses.com"],
                      convention: "Easy DKIM: three CNAMEs <token>._domainkey to <token>.dkim.amazonses.com")
            ],
            notes: "BYODKIM: RSA 1024–2048, selector of 1–63 letters, digits and hyphens; Easy DKIM rotates by itself"),
        ProviderProfile(
            provider: Provider(trusted: "google-workspace"), displayName: "Google Workspace",
            localKeys: nil,
            managed: [.init(style: .txt, selectors: ["google"], convention: "TXT at google._domainkey generated in the Admin console (2048 bits recommended)")],
            notes: "Google generates the key: choose 2048 bits in the Admin console, publish its TXT, then track the selector"),
        ProviderProfile(
            provider: Provider(trusted: "microsoft-365"), displayName: "Microsoft 365",
            localKeys: nil,
            managed: [
                .init(style: .cname, selectors: ["selector1", "selector2"], targetSuffixes: ["onmicrosoft.com", "dkim.mail.microsoft"],
                      convention: "selector1/selector2 CNAMEs into the tenant's onmicrosoft.com (or dkim.mail.microsoft) zone")
            ],
            notes: "Microsoft generates and rotates both keys behind the two CNAMEs"),
        ProviderProfile(
            provider: Provider(trusted: "brevo"), displayName: "Brevo",
            localKeys: nil,
            managed: [
                .init(style: .cname, selectors: ["brevo1", "brevo2"], targetSuffixes: ["dkim.brevo.com"],
                      convention: "brevo1/brevo2 CNAMEs to b1/b2.<domain-with-dashes>.dkim.brevo.com"),
                .init(style: .txt, selectors: ["mail"], convention: "older accounts: a TXT key at mail._domainkey"),
            ],
            notes: "Brevo generates its keys and rotates them behind the CNAMEs"),
        ProviderProfile(
            provider: Provider(trusted: "sendgrid"), displayName: "SendGrid",
            localKeys: nil,
            managed: [
                .init(style: .cname, selectors: ["s1", "s2"], targetSuffixes: ["sendgrid.net"],
                      convention: "s1/s2 CNAMEs to <selector>.domainkey.<id>.wl<n>.sendgrid.net (automated security)"),
                .init(style: .txt, selectors: ["m1"], convention: "automated security off: a TXT key SendGrid generated"),
            ],
            notes: "SendGrid generates its keys; with automated security it rotates them behind the CNAMEs"),
        ProviderProfile(
            provider: Provider(trusted: "postmark"), displayName: "Postmark",
            localKeys: nil,
            managed: [.init(style: .txt, selectors: [], convention: "a TXT key at <yyyymmddhhmmss>pm._domainkey generated by Postmark")],
            notes: "Postmark generates the key and shows a dated selector; it changes when Postmark rotates"),
        ProviderProfile(
            provider: Provider(trusted: "self-hosted"), displayName: "Self-hosted MTA",
            localKeys: .init(algorithms: KeyAlgorithm.allCases, rsaBits: KeySpecification.rsaSizes),
            managed: [],
            signsOnOwnMTA: true,
            notes: "our own MTA signs (OpenDKIM, rspamd, Exim) with the key files; the MTA export writes its signing tables"),
    ]
}
