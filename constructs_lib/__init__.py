"""One package per component (network, security, storage, edge, fleet, monitoring, delivery,
handlers), what they share (core, compliance), and the configuration that composes their sections
(config.py). A component's modules are private: others import its package."""
