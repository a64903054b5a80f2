/etc/config/edgeward
/etc/edgeward/
