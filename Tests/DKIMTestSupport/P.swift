import DKIMKit
