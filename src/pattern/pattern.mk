# pattern: EventBridge event patterns and SNS filter policies, one engine
OBJS += src/pattern/pattern_compile.o src/pattern/pattern_value.o \
	src/pattern/pattern_match.o src/pattern/pattern_sql.o
INSTALL_PIECES += src/pattern/pattern.sql
