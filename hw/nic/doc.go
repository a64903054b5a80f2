// Package nic reads and configures the router's network interfaces.
package nic
