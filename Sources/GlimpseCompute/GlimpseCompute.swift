// GlimpseCompute owns the Compute API v2.1 subset under /compute: flavors, servers, actions, hypervisor drivers.
