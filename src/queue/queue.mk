# queue: SQS-style queues
OBJS += src/queue/queue_api.o src/queue/queue_catalog.o src/queue/queue_attrs.o \
	src/queue/queue_acl.o src/queue/queue_message.o src/queue/queue_send.o \
	src/queue/queue_receive.o src/queue/queue_ack.o src/queue/queue_wait.o \
	src/queue/queue_maint.o src/queue/queue_cursor.o \
	src/queue/queue_shared.o src/queue/queue_stats.o
INSTALL_PIECES += src/queue/queue.sql
