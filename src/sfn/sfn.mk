# sfn: Step Functions-style state machines (the ASL validator so far)
OBJS += src/sfn/sfn_validate.o src/sfn/sfn_api.o src/sfn/sfn_data.o src/sfn/sfn_choice.o src/sfn/sfn_flow.o
INSTALL_PIECES += src/sfn/sfn.sql
