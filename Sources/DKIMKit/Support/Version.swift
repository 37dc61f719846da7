/// dkimctl's version, shown by `dkimctl --version` and recorded in the registry's first event.
public enum DKIMKitVersion {
    public static let current = "0.1.0"
}
