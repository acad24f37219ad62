# bus: EventBridge-style event buses
OBJS += src/bus/bus_api.o src/bus/bus_catalog.o src/bus/bus_rules.o src/bus/bus_input.o \
	src/bus/bus_events.o src/bus/bus_schedule.o src/bus/bus_archive.o
INSTALL_PIECES += src/bus/bus.sql
