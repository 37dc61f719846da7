import ArgumentParser
import DKIMKit

extension DKIMCtl {
    struct Handoff: DKIMCommand {
        static let configuration = CommandConfiguration(
            commandName: "handoff",
            abstract: "Print the commands that give a key to its provider (Mailgun, Amazon SES BYODKIM).",
            discussion: """
                Prints a shell script from the provider's handoff/ template: for Mailgun, the domain-keys \
                API call (curl) that imports the key; for Amazon SES, 'aws sesv2 \
                put-email-identity-dkim-signing-attributes' with its JSON input file. The private key is \
                read from its file when the script runs (converted by 'openssl pkey'); it never appears \
                in the printed text. A key the registry keeps sealed is read from --key-dir, where \
                'dkimctl keys materialize --host-dir' wrote it on the host that runs the script.

                Hand the key over once 'dkimctl new' or 'rotate' created it; the provider signs with it \
                after DNS proves the record (Mailgun: activate it there then, as the script's last \
                comment says).

                Examples:
                  dkimctl handoff mailgun-notifications-20261123 --domain example.org > handoff.sh && sh handoff.sh
                  dkimctl handoff amazon-ses-noreply-20261123 --domain example.org
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var key: KeyReference
        @OptionGroup var configurationFile: ConfigurationOption
        @OptionGroup var templates: TemplateOptions
        @OptionGroup var keyDirectory: KeyDirectoryOption

        func run(_ context: CommandContext) throws {
            let configuration = try configurationFile.load(context, required: false, checkEnvironment: false)
            let key = try key.find(in: context.registry)
            try key.requireLocal("the provider already holds its key")
            let profile = configuration.providers.profile(for: key.provider)
            guard let template = profile.localKeys?.handoff else {
                throw DKIMError(
                    .invalidInput,
                    "provider \(key.provider) has no hand-off: \(profile.signsOnOwnMTA ? "your MTA reads the key file ('dkimctl export mta')" : "publish the record and give the provider the key file as it documents") (hand-offs exist for: \(configuration.providers.profiles.compactMap { $0.localKeys?.handoff == nil ? nil : $0.provider.identifier }.joined(separator: ", ")))")
            }
            guard key.state != .revoked, key.privateKeyPath != nil || key.privateKeyInRegistry else {
                throw DKIMError(.conflict, "key \(key.selector) is \(key.state.rawValue) and its private key is gone; hand over the slot's current key instead")
            }
            let resolved = try keyDirectory.locate(key, in: context.state)
            Output.standard.write(try templates.library(configuration).render(template, TemplateContexts.record(resolved)))
        }
    }
}
