"""Examples beyond the lecture (U-Nets, an autoencoder, SE-ResNet, ShuffleNet units, auxiliary
heads): .arch files shipped as package data, loadable by path (`archdsl.example_path`)."""
