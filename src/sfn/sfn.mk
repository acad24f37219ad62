# sfn: Step Functions-style state machines: the ASL validator and data
# flow, machines, executions (interpreter, store, tasks) and their SQL API
OBJS += src/sfn/sfn_validate.o src/sfn/sfn_api.o src/sfn/sfn_data.o src/sfn/sfn_choice.o src/sfn/sfn_flow.o \
	src/sfn/sfn_run.o src/sfn/sfn_thread.o src/sfn/sfn_store.o src/sfn/sfn_task.o src/sfn/sfn_exec_api.o src/sfn/sfn_graph.o
INSTALL_PIECES += src/sfn/sfn.sql

# SQLSTATE -> condition name (a task's Error), from the server's errcodes.txt
src/sfn/sfn_errcodes.h: $(shell $(PG_CONFIG) --sharedir)/errcodes.txt
	awk 'NF >= 4 && $$1 ~ /^[0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z]$$/ && $$3 ~ /^ERRCODE_/ { printf "\t{\"%s\", \"%s\"},\n", $$1, $$4 }' $< > $@

src/sfn/sfn_task.o: src/sfn/sfn_errcodes.h
